"""Alembic environment.

Each component keeps its own migration branch (branch label = component name) so that
parts of the product evolve independently; ``upgrade heads`` applies them all.
Table modules are imported here so autogenerate sees the whole schema.
"""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import pool
from sqlmodel import SQLModel

from inspector.db import LIMITS_ATTRIBUTE, DatabaseLimits, make_engine

# One entry per component that owns tables. Add yours here.
TABLE_MODULES: list[str] = [
    "inspector.auth.tables",
    "inspector.ratelimit",
    "inspector.certificates.tables",
    "warranty.tables",
    "inspector.station.tables",
    "inspector.sync.tables",
    "inspector.platform.tables",
    "inspector.photostore.tables",
    "inspector.eventbus.tables",
]

for _name in TABLE_MODULES:
    importlib.import_module(_name)

target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    limits = context.config.attributes.get(LIMITS_ATTRIBUTE, DatabaseLimits().for_migrations())
    engine = make_engine(url, limits)
    engine.pool = pool.NullPool(engine.pool._creator)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
