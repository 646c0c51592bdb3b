"""Migration revisions; file names start with the component (branch) they belong to."""
