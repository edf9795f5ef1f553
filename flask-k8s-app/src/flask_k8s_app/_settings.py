"""What the charm's variables mean to Flask and its extensions: the environment into app.config.

The charm hands the app ``FLASK_*`` variables (loaded with ``from_prefixed_env``: JSON values
become Python values) and one set of variables per integration. Each integration's variables
are mapped onto the keys the usual Flask extensions read (Flask-SQLAlchemy, Flask-Caching,
redis-py, Flask-Mail...). A key the app set itself, or set through a ``FLASK_`` variable,
always wins: nothing here overrides it.
"""

from __future__ import annotations

import collections.abc
import importlib.util
import json
import typing
import urllib.parse

# The library's own settings, with their defaults. Each is read as app.config[KEY], which a
# FLASK_<KEY> variable sets (a charm option named k8s-<key> becomes one); the Dockerflow name
# is honoured as an alias.
DEFAULTS: dict[str, typing.Any] = {
    "K8S_HEARTBEAT_FAILED_STATUS_CODE": 500,
    "K8S_CHECK_TIMEOUT": 2.0,
    "K8S_HEARTBEAT_CACHE_SECONDS": 1.0,
    "K8S_HEARTBEAT_DETAILS": None,
    "K8S_SILENCED_CHECKS": (),
    "K8S_REQUIRE_MIGRATIONS": False,
    "K8S_VERSION_PATH": None,
    "K8S_ENABLE_ERROR_ENDPOINT": False,
    "K8S_REQUEST_ID_HEADER": "X-Request-ID",
    "K8S_LOG_FORMAT": None,
    "K8S_LOG_LEVEL": None,
    "K8S_SUMMARY_LOG": True,
    "K8S_SUMMARY_LOG_QUERYSTRING": False,
    "K8S_STATSD_HOST": "localhost:9125",
    "K8S_METRICS": True,
    "K8S_TRACING": None,
}
DOCKERFLOW_ALIASES = {
    "DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE": "K8S_HEARTBEAT_FAILED_STATUS_CODE",
    "DOCKERFLOW_REQUEST_ID_HEADER_NAME": "K8S_REQUEST_ID_HEADER",
    "DOCKERFLOW_SUMMARY_LOG_QUERYSTRING": "K8S_SUMMARY_LOG_QUERYSTRING",
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def sql_url(url: str, installed: collections.abc.Callable[[str], bool] = _installed) -> str:
    """The charm's database URL with the scheme of the driver the rock installed.

    SQLAlchemy reads a bare ``postgresql://`` as psycopg2 and ``mysql://`` as mysqlclient;
    a rock that installed psycopg 3 or PyMySQL would fail at the first query.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or "+" in scheme:
        return url
    drivers = {
        "postgresql": (("psycopg", "psycopg"), ("psycopg2", "psycopg2")),
        "postgres": (("psycopg", "psycopg"), ("psycopg2", "psycopg2")),
        "mysql": (("pymysql", "pymysql"), ("MySQLdb", "mysqldb")),
    }
    canonical = "postgresql" if scheme == "postgres" else scheme
    for module, driver in drivers.get(scheme, ()):
        if installed(module):
            return f"{canonical}+{driver}://{rest}"
    return url


def redis_url(url: str) -> str:
    """A Redis or Valkey URL in the form redis-py reads (it refuses ``valkey://``)."""
    scheme, sep, rest = url.partition("://")
    mapped = {"valkey": "redis", "valkeys": "rediss"}.get(scheme.lower())
    return f"{mapped}://{rest}" if sep and mapped else url


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def integration_config(
    environ: collections.abc.Mapping[str, str],
    app_name: str,
    installed: collections.abc.Callable[[str], bool] = _installed,
) -> dict[str, typing.Any]:
    """The app.config keys the integration variables stand for (see the README's table)."""
    config: dict[str, typing.Any] = {}
    for prefix in ("POSTGRESQL", "MYSQL"):
        url = environ.get(f"{prefix}_DB_CONNECT_STRING")
        if url:
            config["SQLALCHEMY_DATABASE_URI"] = sql_url(url, installed)
            options: dict[str, typing.Any] = {"pool_pre_ping": True}
            # A database that does not answer fails the heartbeat's check in time, instead
            # of holding a request for the operating system's TCP timeout.
            options["connect_args"] = {"connect_timeout": 2}
            config["SQLALCHEMY_ENGINE_OPTIONS"] = options
            break
    redis = environ.get("REDIS_DB_CONNECT_STRING") or environ.get("VALKEY_DB_CONNECT_STRING")
    if redis:
        config["REDIS_URL"] = redis_url(redis)
        config["CACHE_TYPE"] = "RedisCache"
        config["CACHE_REDIS_URL"] = config["REDIS_URL"]
    else:
        config["CACHE_TYPE"] = "SimpleCache"
    config["CACHE_KEY_PREFIX"] = f"{environ.get('OTEL_SERVICE_NAME') or app_name}-"
    config["CACHE_DEFAULT_TIMEOUT"] = 300
    rabbitmq = environ.get("RABBITMQ_CONNECT_STRING")
    if rabbitmq:
        config["RABBITMQ_URL"] = rabbitmq
    for name, value in environ.items():
        if name.startswith(("S3_", "SAML_", "FGA_")) and value:
            config[name] = value
    config.update(_mail(environ))
    return config


def _mail(environ: collections.abc.Mapping[str, str]) -> dict[str, typing.Any]:
    """SMTP_* as Flask-Mail's MAIL_* keys."""
    host = environ.get("SMTP_HOST")
    if not host:
        return {}
    security = (environ.get("SMTP_TRANSPORT_SECURITY") or "none").lower()
    mail: dict[str, typing.Any] = {
        "MAIL_SERVER": host,
        "MAIL_USE_TLS": security == "starttls",
        "MAIL_USE_SSL": security == "tls",
    }
    port = environ.get("SMTP_PORT")
    if port and port.isdigit():
        mail["MAIL_PORT"] = int(port)
    if environ.get("SMTP_USER"):
        user = environ["SMTP_USER"]
        domain = environ.get("SMTP_DOMAIN")
        mail["MAIL_USERNAME"] = f"{user}@{domain}" if domain and "@" not in user else user
        mail["MAIL_PASSWORD"] = environ.get("SMTP_PASSWORD", "")
    if environ.get("SMTP_DOMAIN"):
        mail["MAIL_DEFAULT_SENDER"] = f"no-reply@{environ['SMTP_DOMAIN']}"
    return mail


def secret_key_fallbacks(value: object) -> list[str]:
    """SECRET_KEY_FALLBACKS as Flask 3.1 reads it: a list, also from a single string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        value = decoded
    if isinstance(value, list | tuple):
        return [str(item) for item in typing.cast("collections.abc.Iterable[object]", value)]
    return [str(value)]


def apply(
    config: dict[str, typing.Any], environ: collections.abc.Mapping[str, str], app_name: str
) -> None:
    """Load the environment into ``config``, keeping every key already there."""
    for alias, key in DOCKERFLOW_ALIASES.items():
        if alias in config and key not in config:
            config[key] = config[alias]
    for key, value in integration_config(environ, app_name).items():
        config.setdefault(key, value)
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    if "SECRET_KEY_FALLBACKS" in config:
        config["SECRET_KEY_FALLBACKS"] = secret_key_fallbacks(config["SECRET_KEY_FALLBACKS"])


def as_bool(value: object) -> bool:
    """A setting that may arrive as JSON (true) or as text (yes, on, 1)."""
    return value if isinstance(value, bool) else _truthy(value)


def as_float(value: object, default: float) -> float:
    """A number setting; the default when it is not one."""
    try:
        return float(typing.cast("typing.SupportsFloat", value))
    except (TypeError, ValueError):
        return default


def as_list(value: object) -> list[str]:
    """A list setting given as JSON or as comma-separated text."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(item) for item in typing.cast("collections.abc.Iterable[object]", value)]
    return [str(value)]


def statsd_address(value: object) -> tuple[str, int] | None:
    """host:port of the statsd listener, or None when it is not one."""
    host, sep, port = str(value or "").rpartition(":")
    if not sep or not port.isdigit():
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # [::1]:9125
    return (host or "localhost", int(port))


def without_credentials(url: str) -> str:
    """A URL with its password replaced, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
