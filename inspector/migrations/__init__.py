"""Alembic migrations, one branch per component."""
