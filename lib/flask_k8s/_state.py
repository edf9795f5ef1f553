"""The inputs of one reconcile, as one immutable ``CharmState``, and their validation.

Pure (no ops): ``build`` takes plain values and callables. ``_juju_state.read_state`` (the shell)
is the only place that reads config, secrets, relations and the charm's process
environment into them; the rest of the reconcile works from the state alone.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing

from . import _config, _proxy, _record, _spec, _status

# The variables flask-k8s sets itself, after the prefix; a user option may not set them.
BUILTIN_VARIABLES = (
    "ENV",
    "DEBUG",
    "SECRET_KEY",
    "PERMANENT_SESSION_LIFETIME",
    "APPLICATION_ROOT",
    "SESSION_COOKIE_SECURE",
    "PREFERRED_URL_SCHEME",
    "BASE_URL",
    "PEER_FQDNS",
)


_V = typing.TypeVar("_V")


def _frozen(
    mapping: collections.abc.Mapping[str, _V] | None = None,
) -> types.MappingProxyType[str, _V]:
    return types.MappingProxyType(dict(mapping or {}))


def _no_variables() -> types.MappingProxyType[str, str]:
    return _frozen({})


def _no_log_targets() -> types.MappingProxyType[str, collections.abc.Mapping[str, typing.Any]]:
    return _frozen({})


def _no_previous_keys(_key: str, _session_lifetime: float) -> tuple[str, ...]:
    return ()


class CharmState(_record.Record):
    """The inputs of one reconcile."""

    app_name: str
    model_name: str
    unit_name: str
    secret_key: str
    is_leader: bool = True
    # Previous generated keys whose sessions may still be live (newest first).
    secret_key_fallbacks: tuple[str, ...] = ()
    flask: _config.FlaskConfig = dataclasses.field(default_factory=_config.FlaskConfig)
    webserver: _config.WebserverConfig = dataclasses.field(default_factory=_config.WebserverConfig)
    # FLASK_<OPTION> variables of the charm author's options, secret ones expanded per key.
    user_env: collections.abc.Mapping[str, str] = dataclasses.field(default_factory=_no_variables)
    proxy_env: collections.abc.Mapping[str, str] = dataclasses.field(default_factory=_no_variables)
    # Variables the charm author computes from the state (``FlaskCharm.extra_environment``).
    extra_env: collections.abc.Mapping[str, str] = dataclasses.field(default_factory=_no_variables)
    # The charm author's templates: workload path -> (template name, its text).
    templates: collections.abc.Mapping[str, tuple[str, str]] = dataclasses.field(
        default_factory=dict[str, tuple[str, str]]
    )
    # Variables from related applications (POSTGRESQL_DB_CONNECT_STRING, ...).
    integration_env: collections.abc.Mapping[str, str] = dataclasses.field(
        default_factory=_no_variables
    )
    # Pebble log targets, from the logging integration.
    log_targets: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]] = (
        dataclasses.field(default_factory=_no_log_targets)
    )
    # Optional integrations whose provider is still answering.
    waiting: tuple[str, ...] = ()
    peer_fqdns: tuple[str, ...] = ()
    # Values that must never appear in a status or a log, such as secret contents.
    secret_values: tuple[str, ...] = ()
    # paas-config.yaml's ``framework_logging_format: json``: gunicorn logs JSON lines.
    json_logging: bool = False
    # Seconds the migration may run (migration-timeout).
    migration_timeout: float = float(_config.MIGRATION_TIMEOUT)

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_env", _frozen(self.user_env))
        object.__setattr__(self, "proxy_env", _frozen(self.proxy_env))
        object.__setattr__(self, "integration_env", _frozen(self.integration_env))
        object.__setattr__(self, "extra_env", _frozen(self.extra_env))

    def base_url(self, port: int) -> str:
        """The URL other applications in the model reach the app at."""
        return f"http://{self.app_name}.{self.model_name}:{port}"


def unit_fqdn(unit_name: str, model_name: str) -> str:
    """A unit's stable DNS name behind the application's headless service."""
    app, number = unit_name.split("/")
    return f"{app}-{number}.{app}-endpoints.{model_name}.svc.cluster.local"


SecretReader = collections.abc.Callable[[str, str], dict[str, str]]
"""Reads the content of the secret an option points at: (option, secret ID) -> content."""


class Integrations(_record.Record):
    """What the related applications give the app."""

    environment: collections.abc.Mapping[str, str] = dataclasses.field(
        default_factory=_no_variables
    )
    # Pebble log targets (logging to Loki).
    log_targets: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]] = (
        dataclasses.field(default_factory=_no_log_targets)
    )
    # Endpoints whose provider is still answering (the app runs without them meanwhile).
    waiting: tuple[str, ...] = ()
    # Required endpoints that are absent or not ready: the app must not run.
    missing: tuple[str, ...] = ()
    secret_values: tuple[str, ...] = ()


class Unit(_record.Record):
    """Who reconciles: the application, its model, this unit and its peers."""

    app_name: str
    model_name: str
    unit_name: str
    is_leader: bool = True
    peer_units: collections.abc.Sequence[str] = ()


class Reads(_record.Record):
    """How the core reaches Juju: callables given by the shell or a runner.

    The shell is ``_juju_state.read_state``.

    Each is called only when the state needs it, so a config error never reads a secret or
    a relation it does not need.
    """

    read_secret: SecretReader
    generated_secret_key: collections.abc.Callable[[], str | None]
    generated_fallbacks: collections.abc.Callable[[], tuple[str, ...]] = tuple
    previous_keys: collections.abc.Callable[[str, float], tuple[str, ...]] = _no_previous_keys
    integrations: collections.abc.Callable[[], Integrations] | None = None


class _Options(_record.Record):
    """The validated options, what they set, and what is wrong with them."""

    flask: _config.FlaskConfig
    webserver: _config.WebserverConfig
    migration_timeout: int
    secret_key: str | None
    user_env: dict[str, str]
    # The option each user variable comes from, for messages.
    sources: dict[str, str]
    problems: _config.Problems
    secret_values: list[str]


def build(
    *,
    values: collections.abc.Mapping[str, typing.Any],
    options: collections.abc.Mapping[str, _config.OptionMeta],
    unit: Unit,
    reads: Reads,
    environ: collections.abc.Mapping[str, str] | None = None,
    workload_spec: _spec.WorkloadSpec = _spec.FLASK,
    json_logging: bool = False,
) -> CharmState:
    """Validate the inputs into a CharmState, or raise the status that says what to fix."""
    parsed = _parse_options(values, options, reads.read_secret, workload_spec)
    related = _integrations(parsed, reads)
    secret_key, fallbacks = _secret_key(parsed, reads)
    secret_values = [*parsed.secret_values, *related.secret_values, *fallbacks, secret_key]
    secret_values.extend(_proxy.credentials(environ or {}))
    return CharmState(
        app_name=unit.app_name,
        model_name=unit.model_name,
        unit_name=unit.unit_name,
        is_leader=unit.is_leader,
        flask=parsed.flask,
        webserver=parsed.webserver,
        user_env=parsed.user_env,
        proxy_env=_proxy.from_environ(environ or {}),
        integration_env=related.environment,
        log_targets=related.log_targets,
        waiting=related.waiting,
        peer_fqdns=tuple(unit_fqdn(peer, unit.model_name) for peer in unit.peer_units),
        secret_key=secret_key,
        secret_key_fallbacks=fallbacks,
        secret_values=tuple(value for value in secret_values if value),
        json_logging=json_logging,
        migration_timeout=float(parsed.migration_timeout),
    )


def _parse_options(
    values: collections.abc.Mapping[str, typing.Any],
    options: collections.abc.Mapping[str, _config.OptionMeta],
    read_secret: SecretReader,
    workload_spec: _spec.WorkloadSpec,
) -> _Options:
    """Every option checked, its problems collected; secrets read as options name them."""
    problems = _config.Problems()
    problems.missing.extend(_config.missing_options(options, values))
    flask = _config.parse_flask(values, problems)
    secret_values: list[str] = []
    secret_key = flask.secret_key
    if flask.secret_key_id is not None and flask.secret_key is None:
        content = _read_secret(read_secret, "flask-secret-key-id", flask.secret_key_id, problems)
        if content is not None:
            secret_values.extend(content.values())
            if set(content) != {"value"} or not content["value"]:
                problems.invalid.append(
                    "secret of flask-secret-key-id must hold exactly one key, 'value'"
                )
            else:
                secret_key = content["value"]
    if flask.secret_key:
        secret_values.append(flask.secret_key)
    # In this order, so that the problems are listed as the options are.
    webserver = _config.parse_webserver(values, problems)
    migration_timeout = _config.parse_migration_timeout(values, problems)
    sources: dict[str, str] = {}
    user_env = _user_env(
        values,
        options=options,
        read_secret=read_secret,
        workload_spec=workload_spec,
        problems=problems,
        secret_values=secret_values,
        sources=sources,
    )
    return _Options(
        flask=flask,
        webserver=webserver,
        migration_timeout=migration_timeout,
        secret_key=secret_key,
        user_env=user_env,
        sources=sources,
        problems=problems,
        secret_values=secret_values,
    )


def _integrations(parsed: _Options, reads: Reads) -> Integrations:
    """The related applications' answers, once the options hold; missing ones named with them."""
    problems = parsed.problems
    if problems.invalid and not problems.missing:
        problems.raise_if_any()
    related = reads.integrations() if reads.integrations is not None else Integrations()
    if problems.missing or related.missing:
        parts = [f"missing config: {', '.join(problems.missing)}"] if problems.missing else []
        if related.missing:
            parts.append(f"missing integrations: {', '.join(related.missing)}")
        if problems.invalid:
            parts.append(f"invalid config: {'; '.join(problems.invalid)}")
        raise _status.Missing("; ".join(parts))
    # An integration's variable would silently replace the option's: refuse the option.
    for variable in sorted(set(parsed.user_env).intersection(related.environment)):
        problems.invalid.append(
            f"{parsed.sources[variable]} would set {variable}, which an integration sets; "
            "rename the option"
        )
    problems.raise_if_any()
    return related


def _secret_key(parsed: _Options, reads: Reads) -> tuple[str, tuple[str, ...]]:
    """The key in use and the previous ones still accepted, newest first."""
    secret_key = parsed.secret_key
    fallbacks: tuple[str, ...] = ()
    if secret_key is None:
        secret_key = reads.generated_secret_key()
        if secret_key is None:
            raise _status.Waiting("waiting for the leader to create the secret key")
        fallbacks = reads.generated_fallbacks()
    lifetime = parsed.flask.permanent_session_lifetime or _config.DEFAULT_SESSION_LIFETIME
    history = reads.previous_keys(secret_key, float(lifetime))
    fallbacks = tuple(dict.fromkeys(key for key in (*fallbacks, *history) if key != secret_key))[
        : _config.MAX_FALLBACKS
    ]
    return secret_key, fallbacks


def _user_env(
    values: collections.abc.Mapping[str, typing.Any],
    *,
    options: collections.abc.Mapping[str, _config.OptionMeta],
    read_secret: SecretReader,
    workload_spec: _spec.WorkloadSpec,
    problems: _config.Problems,
    secret_values: list[str],
    sources: dict[str, str],
) -> dict[str, str]:
    """FLASK_<OPTION> for each of the charm author's options that is set.

    ``sources`` gets the option each variable comes from, for messages.
    """
    reserved = {workload_spec.env_prefix + name for name in BUILTIN_VARIABLES}
    user_env: dict[str, str] = {}
    for name, meta in options.items():
        value = values.get(name)
        if not _config.is_user_option(name, workload_spec.option_prefix) or value in (None, ""):
            continue
        if meta.type == "secret":
            content = _read_secret(read_secret, name, str(value), problems)
            if content is None:
                continue
            secret_values.extend(content.values())
            reason = _config.check_secret_keys(name, content)
            if reason:
                problems.invalid.append(reason)
                continue
            variables = {
                _config.env_name(workload_spec.env_prefix, name, key): item
                for key, item in content.items()
            }
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            problems.invalid.append(f"{name} must be a 64-bit integer")
            continue
        else:
            variables = {_config.env_name(workload_spec.env_prefix, name): _config.encode(value)}
        for variable in sorted(reserved.intersection(variables)):
            problems.invalid.append(
                f"{name} would set {variable}, which flask-k8s sets itself; rename the option"
            )
        user_env.update(variables)
        sources.update(dict.fromkeys(variables, name))
    return user_env


def _read_secret(
    read_secret: SecretReader, option: str, secret_id: str, problems: _config.Problems
) -> dict[str, str] | None:
    try:
        return read_secret(option, secret_id)
    except _status.Blocked as blocked:
        problems.invalid.append(blocked.message.removeprefix("invalid config: "))
        return None
