"""create_app: backend_common's app factory, with its extensions in a declared order.

``create_app(__name__, extensions=("log", "security", "cors", database, "cache"))`` makes the
Flask app, loads its config from the environment (then ``config``, which wins), initialises
FlaskK8s (health, request ids, metrics, tracing) and then each extension in the built-in
order, the app's own after them in the order given. Each extension is a name of a built-in,
or a module or object with ``init_app(app)``; what ``init_app`` returns is kept under the
extension's name: ``flask_k8s_app.extension("db")``, and the FlaskK8s object under ``k8s``.
"""

from __future__ import annotations

import collections.abc
import pathlib
import types
import typing

import flask

from . import _builtin_checks, _checks, _extension, _settings

# The order built-ins load in, whatever order they are listed in: logs first (so that the
# others log in the app's format), security headers and CORS before anything answers, the
# database before the cache (a cache may be backed by it).
BUILTIN_ORDER = ("log", "security", "cors", "db", "cache")
LOADED = "flask_k8s.loaded"


class Extension(typing.Protocol):
    """What create_app loads: anything with ``init_app(app)``."""

    def init_app(self, app: flask.Flask) -> object:
        """Attach to ``app``; the result is kept under the extension's name."""
        ...


class Log:
    """Logs in the format the charm's gunicorn writes (JSON), or text in a terminal."""

    name = "log"

    def init_app(self, app: flask.Flask) -> None:
        """Nothing to add: FlaskK8s installs the handler when create_app lists ``log``."""


class SecurityHeaders:
    """Secure response headers that never redirect: TLS ends at the ingress.

    Pebble probes the app over plain HTTP on localhost, so an HTTPS redirect would fail its
    checks; HSTS is sent only on a request that came in over HTTPS (as the ingress says).
    Settings: ``K8S_CSP`` (a policy string; ``""`` sends none), ``K8S_FRAME_OPTIONS``,
    ``K8S_HSTS_SECONDS`` (0 turns HSTS off).
    """

    name = "security"
    CSP = "default-src 'self'; object-src 'none'; frame-ancestors 'self'; base-uri 'self'"

    def init_app(self, app: flask.Flask) -> SecurityHeaders:
        """Add the headers to every response."""
        app.config.setdefault("K8S_CSP", self.CSP)
        app.config.setdefault("K8S_FRAME_OPTIONS", "SAMEORIGIN")
        app.config.setdefault("K8S_HSTS_SECONDS", 31536000)
        app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
        if app.config.get("SESSION_COOKIE_SAMESITE") is None:  # Flask's default: no SameSite
            app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
        app.after_request(self._headers)
        return self

    @staticmethod
    def _headers(response: flask.Response) -> flask.Response:
        config = flask.current_app.config
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if config["K8S_FRAME_OPTIONS"]:
            headers.setdefault("X-Frame-Options", str(config["K8S_FRAME_OPTIONS"]))
        if config["K8S_CSP"]:
            headers.setdefault("Content-Security-Policy", str(config["K8S_CSP"]))
        seconds = int(_settings.as_float(config["K8S_HSTS_SECONDS"], 0))
        if seconds > 0 and flask.request.is_secure:
            headers.setdefault(
                "Strict-Transport-Security", f"max-age={seconds}; includeSubDomains"
            )
        return response


class Cors:
    """Flask-Cors, on only when CORS_ORIGINS or CORS_RESOURCES is set (never ``*`` by default)."""

    name = "cors"

    def init_app(self, app: flask.Flask) -> typing.Any:
        """CORS with the app's CORS_* settings, or nothing."""
        if not (app.config.get("CORS_ORIGINS") or app.config.get("CORS_RESOURCES")):
            return None
        flask_cors = _builtin_checks.require("flask_cors", "CORS", "cors")
        return flask_cors.CORS(app)


class Database:
    """Flask-SQLAlchemy and Flask-Migrate on the database the charm related.

    Make it before the models, which use ``database.db.Model``; create_app initialises it.
    Migrations live in ``<app root>/migrations`` and run only through the charm's migration
    step (``python3 -m flask_k8s_app.migrate`` in migrate.sh), never on import.
    """

    name = "db"

    def __init__(self) -> None:
        flask_sqlalchemy = _builtin_checks.require("flask_sqlalchemy", "the database", "db")
        self.db: typing.Any = flask_sqlalchemy.SQLAlchemy()
        self.migrate: typing.Any = None

    def init_app(self, app: flask.Flask) -> typing.Any:
        """Bind the database and migrations to ``app``; without a database, say so."""
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            # The heartbeat names what is missing, and the charm shows it.
            _extension.register_check(app, "database", _no_database)
            return self.db
        self.db.init_app(app)
        flask_migrate = _builtin_checks.require("flask_migrate", "migrations", "db")
        directory = str(pathlib.Path(app.root_path, "migrations"))
        self.migrate = flask_migrate.Migrate(app, self.db, directory=directory)
        return self.db


def _no_database() -> list[_checks.CheckMessage]:
    return [
        _checks.Error(
            "no database configured: integrate one (POSTGRESQL_DB_CONNECT_STRING or "
            "MYSQL_DB_CONNECT_STRING is not set)",
            id="flask_k8s_app.E_NO_DATABASE",
        )
    ]


class Cache:
    """Flask-Caching on the related Redis, else in memory; a heartbeat round-trip check."""

    name = "cache"

    def init_app(self, app: flask.Flask) -> typing.Any:
        """The cache, and its check (a warning when it fails: a cache is optional)."""
        flask_caching = _builtin_checks.require("flask_caching", "the cache", "cache")
        if app.config.get("CACHE_TYPE") == "RedisCache":
            # redis-py waits forever by default: a hung Redis would hold every cached page.
            options = dict(app.config.get("CACHE_OPTIONS") or {})
            options.setdefault("socket_connect_timeout", 1)
            options.setdefault("socket_timeout", 1)
            app.config["CACHE_OPTIONS"] = options
        cache = flask_caching.Cache(app)

        def check() -> list[_checks.CheckMessage]:
            key = "flask-k8s-app-heartbeat"
            try:
                with app.app_context():
                    cache.set(key, "ok", timeout=10)
                    answered = cache.get(key)
                    cache.delete(key)
            except Exception as error:
                message = f"cache round-trip failed: {type(error).__name__}"
                return [_checks.Warning(message, id="flask_k8s_app.W_CACHE")]
            if answered != "ok":
                return [_checks.Warning("cache lost a value", id="flask_k8s_app.W_CACHE")]
            return []

        _extension.register_check(app, "cache", check, failure_level=_checks.WARNING)
        return cache


BUILTINS: dict[str, collections.abc.Callable[[], Extension]] = {
    "log": Log,
    "security": SecurityHeaders,
    "cors": Cors,
    "db": Database,
    "cache": Cache,
}


def _name(extension: object) -> str:
    if isinstance(extension, types.ModuleType):
        return extension.__name__.rsplit(".", 1)[-1]
    return str(getattr(extension, "name", None) or type(extension).__name__.lower())


def create_app(
    import_name: str,
    extensions: collections.abc.Iterable[str | object] = (),
    config: collections.abc.Mapping[str, typing.Any] | None = None,
    **flask_kwargs: typing.Any,
) -> flask.Flask:
    """A Flask app configured from the environment, with FlaskK8s and ``extensions`` loaded."""
    app = flask.Flask(import_name, **flask_kwargs)
    _extension.load_config(app, overrides=config)
    listed = list(extensions)
    builtin: dict[str, object] = {}
    custom: list[tuple[str, object]] = []
    for extension in listed:
        if isinstance(extension, str):
            if extension not in BUILTINS:
                known = ", ".join(BUILTIN_ORDER)
                raise ValueError(f"no built-in extension {extension!r}; the built-ins: {known}")
            builtin[extension] = BUILTINS[extension]()
        elif _name(extension) in BUILTINS:
            builtin[_name(extension)] = extension
        else:
            custom.append((_name(extension), extension))
    loaded: dict[str, object] = {"k8s": _extension.FlaskK8s(app, logging="log" in builtin)}
    app.extensions[LOADED] = loaded
    ordered = [(name, builtin[name]) for name in BUILTIN_ORDER if name in builtin] + custom
    for name, extension in ordered:
        init_app = getattr(extension, "init_app", None)
        if not callable(init_app):
            raise TypeError(f"extension {name!r} has no init_app(app)")
        loaded[name] = init_app(app)
    return app


def extension(name: str, app: flask.Flask | None = None) -> typing.Any:
    """What extension ``name``'s ``init_app`` returned for ``app`` (the current app by default)."""
    target = app if app is not None else flask.current_app
    loaded = typing.cast("dict[str, object]", target.extensions.get(LOADED, {}))
    if name not in loaded:
        raise KeyError(f"no extension {name!r} was loaded by create_app")
    return loaded[name]
