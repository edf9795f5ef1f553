"""Apply the app's migrations: what the rock's migrate.sh runs, and only it.

    python3 -m flask_k8s_app.migrate [module:app]

The charm runs migrate.sh once per change, before the app gets the new settings, with the
same environment; this imports the app (``app:app``, else ``app:create_app()``, or the
given ``module:name``), and runs Flask-Migrate's ``upgrade`` to the head. It exits non-zero
with the reason on stderr, which the charm shows in its status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import typing

import flask


def find_app(spec: str | None) -> flask.Flask:
    """The app named by ``module:name`` (a factory is called), or the rock's ``app`` module's."""
    sys.path.insert(0, os.getcwd())
    candidates = [spec] if spec else ["app:app", "app:create_app"]
    errors: list[str] = []
    for candidate in candidates:
        module_name, _, attribute = candidate.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            errors.append(f"{candidate}: {error}")
            continue
        found: typing.Any = getattr(module, attribute or "app", None)
        if isinstance(found, flask.Flask):
            return found
        if callable(found):
            made = found()
            if isinstance(made, flask.Flask):
                return made
        errors.append(f"{candidate}: not a Flask app or a factory of one")
    raise LookupError("no Flask app found: " + "; ".join(errors))


def upgrade(app: flask.Flask, revision: str = "head") -> None:
    """Run the app's Alembic migrations up to ``revision``."""
    if "migrate" not in app.extensions:
        raise LookupError(
            "the app has no Flask-Migrate: load the 'db' extension "
            "(flask_k8s_app.create_app(..., extensions=[..., 'db']))"
        )
    # Alembic itself, not flask_migrate.upgrade: that one logs the reason and exits, and the
    # reason must reach stderr, where the charm reads it.
    import alembic.command  # noqa: PLC0415 (only the migration step needs it)

    config = app.extensions["migrate"]
    with app.app_context():
        alembic.command.upgrade(config.migrate.get_config(directory=config.directory), revision)


def main(argv: list[str] | None = None) -> int:
    """The command line: exit 0 once the database is at ``--revision``."""
    parser = argparse.ArgumentParser(prog="python3 -m flask_k8s_app.migrate")
    parser.add_argument("app", nargs="?", help="module:name of the app or its factory")
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    try:
        app = find_app(args.app)
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            print("no database configured: nothing to migrate", file=sys.stderr)
            return 0
        upgrade(app, args.revision)
    except Exception as error:
        print(f"migration failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
