"""Alembic's environment: the app's own database and models, through Flask-Migrate.

Run only inside the app (``python3 -m flask_k8s_app.migrate`` or ``flask db``): the engine
and the models' metadata come from the app's Flask-SQLAlchemy.
"""

from alembic import context
from flask import current_app

database = current_app.extensions["migrate"].db


def run() -> None:
    """Upgrade online, in one transaction."""
    with database.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=database.metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run them against the database")
run()
