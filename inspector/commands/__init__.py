"""Sub-commands of the ``inspector`` CLI: one module each, each with ``register(subparsers)``."""
