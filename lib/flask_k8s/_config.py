"""Config options: the built-in flask-* and webserver-* options, and the charm author's own.

Every problem is collected, so one status names all of them at once.
"""

from __future__ import annotations

import collections.abc
import pathlib
import re
import typing

import yaml

from . import _record, _status

WORKER_CLASSES = ("sync", "gevent")
# How Pebble checks the app: flask_k8s_app's Dockerflow endpoints, or a TCP connect and a GET
# of the readiness path; ``auto`` picks the first when the rock has flask_k8s_app.
HEALTH_CHECKS = ("auto", "dockerflow", "basic")
# The largest number a webserver-* or flask-* integer option takes (gunicorn and Flask read
# them as C ints or seconds; Juju's own limit is 64 bits).
_INT_MAX = 2**31 - 1
# Options of the charm itself that are not exported to the app.
_RESERVED_PREFIXES = ("webserver-",)
_RESERVED_NAMES = ("migration-timeout",)
# Seconds a migration may run, unless migration-timeout says otherwise.
MIGRATION_TIMEOUT = 600
# Previous secret keys the app accepts sessions from (FLASK_SECRET_KEY_FALLBACKS), at most.
MAX_FALLBACKS = 3
# Flask's own PERMANENT_SESSION_LIFETIME: how long a session cookie is accepted.
DEFAULT_SESSION_LIFETIME = 31 * 24 * 3600


class WebserverConfig(_record.Record):
    """The gunicorn settings a user may change; None means gunicorn's own default."""

    workers: int | None = None
    threads: int | None = None
    timeout: int | None = None
    keepalive: int | None = None
    worker_class: str | None = None
    # The app's path that Pebble's readiness check requests.
    readiness_path: str = "/"
    # auto, dockerflow or basic (HEALTH_CHECKS).
    health_checks: str = "auto"


class FlaskConfig(_record.Record):
    """The built-in flask-* options, validated; None means unset."""

    env: str | None = None
    debug: bool | None = None
    permanent_session_lifetime: int | None = None
    application_root: str | None = None
    session_cookie_secure: bool | None = None
    preferred_url_scheme: str = "HTTPS"
    secret_key: str | None = None
    secret_key_id: str | None = None


class OptionMeta(_record.Record):
    """A config option as the charm's metadata declares it."""

    name: str
    type: str
    optional: bool = True
    # The value Juju gives the option until it is set; None without one.
    default: typing.Any = None


class Problems:
    """Collects what is wrong with the config, to report it in one status."""

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.invalid: list[str] = []

    def raise_if_any(self) -> None:
        """Raise Blocked naming every missing and invalid option."""
        parts: list[str] = []
        if self.missing:
            parts.append(f"missing config: {', '.join(self.missing)}")
        if self.invalid:
            parts.append(f"invalid config: {'; '.join(self.invalid)}")
        if parts:
            raise _status.Blocked("; ".join(parts))


def load_yaml(text: str) -> typing.Any:
    """Safe YAML, with libyaml's C loader when PyYAML has it (about ten times faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def load_options(charm_dir: pathlib.Path) -> dict[str, OptionMeta]:
    """The charm's declared options, read from its packed config.yaml or its charmcraft.yaml.

    ops' ConfigMeta has no ``optional``, so the metadata is read here.
    """
    raw: object = None
    config_yaml = charm_dir / "config.yaml"
    if config_yaml.exists():
        raw = load_yaml(config_yaml.read_text())
    else:
        charmcraft_yaml = charm_dir / "charmcraft.yaml"
        if charmcraft_yaml.exists():
            raw = _yaml_mapping(load_yaml(charmcraft_yaml.read_text()) or {}).get("config")
    options = _yaml_mapping(_yaml_mapping(raw or {}).get("options") or {})
    found: dict[str, OptionMeta] = {}
    for name, value in options.items():
        meta = _yaml_mapping(value)
        found[name] = OptionMeta(
            name=name,
            type=str(meta.get("type", "string")),
            optional=meta.get("optional", True) is not False,
            default=meta.get("default"),
        )
    return found


def _yaml_mapping(value: object) -> collections.abc.Mapping[str, object]:
    """A mapping of the charm's YAML metadata; TypeError for anything else."""
    if not isinstance(value, dict):
        raise TypeError(f"the charm's config metadata has a {type(value).__name__}, not a mapping")
    # Its keys are option and field names; its values anything YAML reads.
    return typing.cast("dict[str, object]", value)


def env_name(prefix: str, *parts: str) -> str:
    """``FLASK_`` + the parts, upper case, dashes to underscores."""
    return prefix + "_".join(part.replace("-", "_").upper() for part in parts)


def encode(value: object) -> str:
    """An env value: strings as they are, everything else JSON (``true``, ``3``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _int(
    config: collections.abc.Mapping[str, typing.Any],
    name: str,
    minimum: int,
    problems: Problems,
) -> int | None:
    value = config.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.invalid.append(f"{name} must be an integer")
        return None
    if value < minimum:
        problems.invalid.append(f"{name} must be at least {minimum}")
        return None
    if value > _INT_MAX:
        problems.invalid.append(f"{name} must be at most {_INT_MAX}")
        return None
    return value


def _bool(
    config: collections.abc.Mapping[str, typing.Any], name: str, problems: Problems
) -> bool | None:
    value = config.get(name)
    if value is None or isinstance(value, bool):
        return value
    problems.invalid.append(f"{name} must be true or false")
    return None


def _str(
    config: collections.abc.Mapping[str, typing.Any], name: str, problems: Problems
) -> str | None:
    value = config.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.invalid.append(f"{name} must be a string")
        return None
    if not value.strip():
        problems.invalid.append(f"{name} must not be empty")
        return None
    return value


def _path(config: collections.abc.Mapping[str, typing.Any], name: str, problems: Problems) -> str:
    value = _str(config, name, problems)
    if value is None:
        return "/"
    if not value.startswith("/") or any(
        char.isspace() or not char.isprintable() for char in value
    ):
        problems.invalid.append(f"{name} must be a URL path starting with /, without spaces")
        return "/"
    return value


def parse_webserver(
    config: collections.abc.Mapping[str, typing.Any], problems: Problems
) -> WebserverConfig:
    """The webserver-* options; each bad value is added to ``problems``."""
    worker_class = _str(config, "webserver-worker-class", problems)
    if worker_class is not None:
        worker_class = worker_class.strip().lower()
        if worker_class not in WORKER_CLASSES:
            problems.invalid.append("webserver-worker-class must be sync or gevent")
            worker_class = None
    health_checks = (_str(config, "webserver-health-checks", problems) or "auto").strip().lower()
    if health_checks not in HEALTH_CHECKS:
        problems.invalid.append("webserver-health-checks must be auto, dockerflow or basic")
        health_checks = "auto"
    return WebserverConfig(
        workers=_int(config, "webserver-workers", 1, problems),
        threads=_int(config, "webserver-threads", 1, problems),
        timeout=_int(config, "webserver-timeout", 0, problems),
        keepalive=_int(config, "webserver-keepalive", 0, problems),
        worker_class=worker_class,
        readiness_path=_path(config, "webserver-readiness-path", problems),
        health_checks=health_checks,
    )


def parse_flask(
    config: collections.abc.Mapping[str, typing.Any], problems: Problems
) -> FlaskConfig:
    """The flask-* options; each bad value is added to ``problems``."""
    root = _str(config, "flask-application-root", problems)
    if root is not None and not root.startswith("/"):
        problems.invalid.append("flask-application-root must be a path starting with /")
        root = None
    scheme = _str(config, "flask-preferred-url-scheme", problems) or "HTTPS"
    if scheme.strip().upper() not in ("HTTP", "HTTPS"):
        problems.invalid.append("flask-preferred-url-scheme must be HTTP or HTTPS")
        scheme = "HTTPS"
    secret_key = _str(config, "flask-secret-key", problems)
    secret_key_id = _str(config, "flask-secret-key-id", problems)
    if secret_key is not None and secret_key_id is not None:
        problems.invalid.append("set only one of flask-secret-key and flask-secret-key-id")
    return FlaskConfig(
        env=_str(config, "flask-env", problems),
        debug=_bool(config, "flask-debug", problems),
        permanent_session_lifetime=_int(config, "flask-permanent-session-lifetime", 1, problems),
        application_root=root,
        session_cookie_secure=_bool(config, "flask-session-cookie-secure", problems),
        preferred_url_scheme=scheme.strip().upper(),
        secret_key=secret_key,
        secret_key_id=secret_key_id,
    )


def builtin_env(flask: FlaskConfig, prefix: str) -> dict[str, str]:
    """The variables of the built-in flask-* options that are set."""
    values = {
        "ENV": flask.env,
        "DEBUG": flask.debug,
        "PERMANENT_SESSION_LIFETIME": flask.permanent_session_lifetime,
        "APPLICATION_ROOT": flask.application_root,
        "SESSION_COOKIE_SECURE": flask.session_cookie_secure,
        "PREFERRED_URL_SCHEME": flask.preferred_url_scheme,
    }
    return {prefix + key: encode(value) for key, value in values.items() if value is not None}


def is_user_option(name: str, option_prefix: str) -> bool:
    """Whether the option is the charm author's own, to be handed to the app."""
    return not name.startswith((option_prefix, *_RESERVED_PREFIXES)) and (
        name not in _RESERVED_NAMES
    )


def parse_migration_timeout(
    config: collections.abc.Mapping[str, typing.Any], problems: Problems
) -> int:
    """migration-timeout, in seconds; a bad value is added to ``problems``."""
    value = _int(config, "migration-timeout", 1, problems)
    return MIGRATION_TIMEOUT if value is None else value


def missing_options(
    options: collections.abc.Mapping[str, OptionMeta],
    config: collections.abc.Mapping[str, typing.Any],
) -> list[str]:
    """Options declared ``optional: false`` that have no value."""
    return [
        name
        for name, meta in options.items()
        if not meta.optional and config.get(name) in (None, "")
    ]


_SECRET_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def check_secret_keys(option: str, content: collections.abc.Mapping[str, str]) -> str | None:
    """Why a secret's keys cannot become variables, or None if they can."""
    if not content:
        return f"secret of {option} is empty"
    bad = sorted(key for key in content if not _SECRET_KEY.match(key))
    if bad:
        return f"secret of {option} has keys that are not valid names: {', '.join(bad)}"
    names = [key.replace("-", "_").upper() for key in content]
    if len(set(names)) != len(names):
        return f"secret of {option} has keys that differ only in case or dashes"
    return None
