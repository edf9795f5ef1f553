"""The checks the extension registers for the integrations the charm configured.

Each reaches its dependency within the heartbeat's timeout (the clients are made with short
connect and read timeouts), and says what is wrong without the URL's password. Dockerflow's
message ids are kept, so alerts written for python-dockerflow keep matching.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import threading
import typing

import flask

from . import _checks, _settings

if typing.TYPE_CHECKING:
    import sqlalchemy

_NOT_INSTALLED = "flask_k8s_app.W_NOT_INSTALLED"


class MissingExtra(ImportError):
    """An integration is configured but the package it needs is not installed."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs {module}, which is not installed: "
            f"pip install 'flask-k8s-app[{extra}]'"
        )
        self.extra = extra


def require(module: str, feature: str, extra: str) -> typing.Any:
    """Import ``module``, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtra(feature, extra, module) from error


def _clean(error: BaseException, url: str | None) -> str:
    text = str(error).strip().splitlines()
    message = text[0] if text else type(error).__name__
    if url:
        parts = _settings.without_credentials(url)
        message = message.replace(url, parts)
    return message[:300]


class Database:
    """SELECT 1 on the app's database: through Flask-SQLAlchemy's engine when the app has one."""

    def __init__(self, app: flask.Flask) -> None:
        self.app = app
        self._engine: sqlalchemy.Engine | None = None
        self._lock = threading.Lock()

    def engine(self) -> sqlalchemy.Engine:
        """The engine to check with: the app's own, else one made here once."""
        extension = self.app.extensions.get("sqlalchemy")
        if extension is not None:
            with self.app.app_context():
                return extension.engine
        with self._lock:
            engine = self._engine
            if engine is None:
                sa = require("sqlalchemy", "the database check", "db")
                uri = self.app.config["SQLALCHEMY_DATABASE_URI"]
                options = dict(self.app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
                options.setdefault("pool_pre_ping", True)
                try:
                    engine = sa.create_engine(uri, pool_size=1, max_overflow=0, **options)
                except TypeError:  # a pool without a size (SQLite in memory)
                    engine = sa.create_engine(uri, **options)
                self._engine = engine
            return engine

    def __call__(self) -> list[_checks.CheckMessage]:
        """Connect and run SELECT 1."""
        try:
            sa = require("sqlalchemy", "the database check", "db")
        except MissingExtra as error:
            return [_checks.Warning(f"cannot check: {error}", id=_NOT_INSTALLED)]
        url = str(self.app.config.get("SQLALCHEMY_DATABASE_URI") or "")
        try:
            engine = self.engine()
        except MissingExtra as error:
            return [_checks.Warning(f"cannot check: {error}", id=_NOT_INSTALLED)]
        except (sa.exc.SQLAlchemyError, ValueError, ImportError) as error:
            # A URL SQLAlchemy cannot load (an unknown dialect or driver, a malformed URL).
            message = f'Database misconfigured: "{_clean(error, url)}"'
            return [_checks.Error(message, id="dockerflow.health.E009")]
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError as error:
            detail = _clean(error.orig if error.orig is not None else error, url)
            return [_checks.Error(f"DB-API error: {detail}", id="dockerflow.health.E008")]
        except sa.exc.SQLAlchemyError as error:
            message = f'Database misconfigured: "{_clean(error, url)}"'
            return [_checks.Error(message, id="dockerflow.health.E009")]
        return []


class Redis:
    """PING on the app's Redis (or Valkey), with a client of its own.

    Its timeouts (1s) are shorter than the heartbeat's, so a hung server is reported as
    what it is, and the app's own client keeps the timeouts its commands need.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: tuple[int, typing.Any] | None = None
        self._lock = threading.Lock()

    def client(self) -> typing.Any:
        """The check's client, made once per process."""
        with self._lock:
            if self._client is None or self._client[0] != os.getpid():
                redis = require("redis", "the Redis check", "redis")
                client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
                self._client = (os.getpid(), client)
            return self._client[1]

    def __call__(self) -> list[_checks.CheckMessage]:
        """PING."""
        try:
            client = self.client()
        except MissingExtra as error:
            return [_checks.Warning(f"cannot check: {error}", id=_NOT_INSTALLED)]
        redis = importlib.import_module("redis")
        try:
            answered = client.ping()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            message = f"Could not connect to redis: {_clean(error, self.url)}"
            return [_checks.Error(message, id="dockerflow.health.E004")]
        except redis.RedisError as error:
            message = f'Redis error: "{_clean(error, self.url)}"'
            return [_checks.Error(message, id="dockerflow.health.E010")]
        if not answered:
            return [_checks.Error("Redis ping failed", id="dockerflow.health.E007")]
        return []


class Migrations:
    """Whether the database is at the head of the app's Alembic migrations (Flask-Migrate).

    The script heads are read once (a rock's migrations do not change under it); the
    database's are read with one SELECT, without Alembic's runtime, whose setup would log
    at every heartbeat.
    """

    def __init__(self, app: flask.Flask, database: Database) -> None:
        self.app = app
        self.database = database
        self._heads: frozenset[str] | None = None

    def heads(self) -> frozenset[str] | None:
        """The heads of the app's migration scripts; None without Flask-Migrate or scripts."""
        if self._heads is None:
            migrate = self.app.extensions.get("migrate")
            if migrate is None:
                return None
            alembic_script = importlib.import_module("alembic.script")
            with self.app.app_context():
                directory = str(migrate.directory)
                if not pathlib.Path(directory, "env.py").exists():
                    return None
                config = migrate.migrate.get_config(directory=directory)
                script = alembic_script.ScriptDirectory.from_config(config)
                self._heads = frozenset(script.get_heads())
        return self._heads

    def __call__(self) -> list[_checks.CheckMessage]:
        """Compare the script heads with the database's."""
        heads = self.heads()
        if heads is None:
            return []
        migrate = self.app.extensions["migrate"]
        table = str(migrate.configure_args.get("version_table", "alembic_version"))
        sa = importlib.import_module("sqlalchemy")
        try:
            with self.database.engine().connect() as connection:
                if not sa.inspect(connection).has_table(table):
                    current: set[str] = set()
                else:
                    rows = connection.execute(
                        sa.select(sa.column("version_num")).select_from(sa.table(table))
                    )
                    current = {str(row[0]) for row in rows}
        except sa.exc.SQLAlchemyError as error:
            url = str(self.app.config.get("SQLALCHEMY_DATABASE_URI") or "")
            message = f"Can't connect to database to check migrations: {_clean(error, url)}"
            return [_checks.Info(message, id="dockerflow.health.I001")]
        if heads == current:
            return []
        message = f"Unapplied migrations found: {', '.join(sorted(heads - current)) or 'none'}"
        if _settings.as_bool(self.app.config.get("K8S_REQUIRE_MIGRATIONS")):
            return [_checks.Error(message, id="flask_k8s_app.E_MIGRATIONS")]
        return [_checks.Warning(message, id="dockerflow.health.W001")]
