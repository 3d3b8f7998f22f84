"""Alembic environment: one code path for SQLite and PostgreSQL (batch mode makes SQLite ALTERs work)."""

from alembic import context

from newsletter.db import Base, engine_for
from newsletter.models import load_all

load_all()
config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations_online() -> None:
    with engine_for(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
