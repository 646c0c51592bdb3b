"""Coverage plans, claims and their workflow, the staff console and reports."""
