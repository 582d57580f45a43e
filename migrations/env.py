"""Alembic environment, run through Flask-Migrate (``flask --app app db ...``)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from models.search_index import outside_models
from models.triggers import repair_sqlite

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=outside_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    conf_args = current_app.extensions["migrate"].configure_args
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a SQLite table (copy, drop, rename); with foreign
            # keys on, dropping a referenced table fails. Off for the migration only
            # (outside a transaction, where SQLite honours it), checked at the end.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=outside_models,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                # A batch migration rebuilds a table by copy and rename, which drops
                # its triggers: put back every registered set (the search index's, the
                # statistics tallies') and refill what they keep.
                repair_sqlite(connection)
        if sqlite:
            connection.commit()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.commit()
            # Never back to the pool with the checks off (the pool reuses connections).
            connection.invalidate()
            if broken:
                raise RuntimeError(f"Foreign keys broken by the migration: {broken}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
