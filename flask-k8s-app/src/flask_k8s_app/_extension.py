"""FlaskK8s: the Flask extension that reads what flask-k8s provides and reports back.

``FlaskK8s(app)`` or ``ext = FlaskK8s()`` then ``ext.init_app(app)``: everything it keeps for
an app lives in ``app.extensions["flask_k8s"]``, so one extension object serves several apps
and two apps in one process (or two tests) share nothing.
"""

from __future__ import annotations

import collections.abc
import json
import logging
import os
import pathlib
import re
import sys
import threading
import time
import typing
import uuid
import weakref

import blinker
import flask

from . import _builtin_checks, _checks, _logs, _settings, _statsd

EXTENSION_KEY = "flask_k8s"
CONFIG_LOADED = "flask_k8s.config"
LBHEARTBEAT, HEARTBEAT, VERSION, ERROR = (
    "/__lbheartbeat__",
    "/__heartbeat__",
    "/__version__",
    "/__error__",
)
HEALTH_PATHS = (LBHEARTBEAT, HEARTBEAT, VERSION)

_signals = blinker.Namespace()
heartbeat_passed = _signals.signal("heartbeat-passed")
"""Sent after a heartbeat below ERROR: sender the app, ``level`` and ``result`` keywords."""
heartbeat_failed = _signals.signal("heartbeat-failed")
"""Sent after a heartbeat at ERROR or above: sender the app, ``level`` and ``result``."""

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")
_summary = logging.getLogger("request.summary")
_logger = logging.getLogger("flask_k8s_app")

T = typing.TypeVar("T", bound=collections.abc.Callable[..., typing.Any])


class _State:
    """What the extension keeps for one app."""

    def __init__(self, app: flask.Flask) -> None:
        self.registry = _checks.Registry()
        self.statsd: _statsd.Client | None = None
        self.user_id: collections.abc.Callable[[], str | None] | None = None
        self.redis: typing.Any = None
        self.redis_lock = threading.Lock()
        self.version: dict[str, typing.Any] | None = None
        self.version_lock = threading.Lock()
        self.app = app


class FlaskK8s:
    """The app side of flask-k8s: config, health endpoints, logs, metrics and tracing."""

    def __init__(
        self,
        app: flask.Flask | None = None,
        *,
        builtin_checks: bool = True,
        logging: bool = True,
    ) -> None:
        self.builtin_checks = builtin_checks
        self.logging = logging
        self._pending: list[tuple[str, _checks.CheckFunction]] = []
        self._user_id: collections.abc.Callable[[], str | None] | None = None
        self._apps: weakref.WeakSet[flask.Flask] = weakref.WeakSet()
        if app is not None:
            self.init_app(app)

    # -- setup -----------------------------------------------------------------------------

    def init_app(self, app: flask.Flask) -> None:
        """Configure ``app`` from the environment and add the endpoints and request hooks."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError("FlaskK8s is already initialised on this app")
        if not app.extensions.get(CONFIG_LOADED):
            load_config(app)
        state = _State(app)
        app.extensions[EXTENSION_KEY] = state
        state.user_id = self._user_id
        self._apps.add(app)
        for name, func in self._pending:
            state.registry.register(name, func)
        config = app.config
        if self.logging:
            log_format = str(
                config["K8S_LOG_FORMAT"] or _logs.default_format(app.debug, sys.stdout)
            )
            if log_format not in _logs.FORMATS:
                raise ValueError(f"K8S_LOG_FORMAT must be one of {', '.join(_logs.FORMATS)}")
            level = str(config["K8S_LOG_LEVEL"] or ("DEBUG" if app.debug else "INFO")).upper()
            _logs.install(log_format, level, os.environ.get("OTEL_SERVICE_NAME") or app.name)
        if _settings.as_bool(config["K8S_METRICS"]):
            address = _settings.statsd_address(config["K8S_STATSD_HOST"])
            state.statsd = _statsd.Client(address) if address else None
        if self.builtin_checks:
            self._register_builtin_checks(app, state)
        self._add_views(app)
        app.before_request(_before_request)
        app.after_request(_after_request)
        app.teardown_request(_teardown_request)
        flask.got_request_exception.connect(_record_exception, app, weak=False)
        _maybe_trace(app)

    def _register_builtin_checks(self, app: flask.Flask, state: _State) -> None:
        if app.config.get("SQLALCHEMY_DATABASE_URI"):
            database = _builtin_checks.Database(app)
            state.registry.register("database", database)
            state.registry.register("migrations", _builtin_checks.Migrations(app, database))
        url = app.config.get("REDIS_URL")
        if url:
            state.registry.register("redis", _builtin_checks.Redis(str(url)))

    def _add_views(self, app: flask.Flask) -> None:
        blueprint = flask.Blueprint("flask_k8s", __name__)
        blueprint.add_url_rule(LBHEARTBEAT, "lbheartbeat", _lbheartbeat)
        blueprint.add_url_rule(HEARTBEAT, "heartbeat", _heartbeat)
        blueprint.add_url_rule(VERSION, "version", _version)
        if _settings.as_bool(app.config["K8S_ENABLE_ERROR_ENDPOINT"]):
            blueprint.add_url_rule(ERROR, "error", _error)
        app.register_blueprint(blueprint)

    # -- public API ------------------------------------------------------------------------

    @typing.overload
    def check(self, func: T, /) -> T: ...
    @typing.overload
    def check(
        self, func: None = None, /, *, name: str | None = None
    ) -> collections.abc.Callable[[T], T]: ...
    def check(
        self, func: T | None = None, /, *, name: str | None = None
    ) -> T | collections.abc.Callable[[T], T]:
        """Register a heartbeat check: ``@ext.check`` or ``@ext.check(name="payments")``.

        The check returns a list of messages (``flask_k8s_app.Error(...)`` and so on) or None
        when all is well; an exception counts as an error naming the check.
        """

        def register(function: T) -> T:
            self.add_check(name or function.__name__, function)
            return function

        return register(func) if func is not None else register

    def add_check(self, name: str, func: _checks.CheckFunction) -> None:
        """Register ``func`` as the check ``name`` on every app this extension serves."""
        self._pending.append((name, func))
        for state in self._states():
            state.registry.register(name, func)

    def user_id_loader(self, func: collections.abc.Callable[[], str | None]) -> typing.Any:
        """Name the function that gives the current user's id for the request summary."""
        self._user_id = func
        for state in self._states():
            state.user_id = func
        return func

    def heartbeat(self, app: flask.Flask | None = None) -> _checks.HeartbeatResult:
        """Run the checks now (cached as the endpoint caches them)."""
        state = _state(app or flask.current_app)
        return _run_checks(state)

    @property
    def redis(self) -> typing.Any:
        """The current app's redis-py client for REDIS_URL, made on first use in each process."""
        return _redis_client(_state(flask.current_app))

    def _states(self) -> list[_State]:
        return [_state(app) for app in list(self._apps)]


def load_config(
    app: flask.Flask,
    environ: collections.abc.Mapping[str, str] | None = None,
    overrides: collections.abc.Mapping[str, typing.Any] | None = None,
) -> None:
    """Every FLASK_* variable, then ``overrides``, then the integrations' variables.

    FLASK_* variables are loaded as ``from_prefixed_env`` loads them (JSON values decoded,
    ``A__B`` nested); the integrations' variables only fill keys that are still unset.
    """
    env = os.environ if environ is None else environ
    for key, value in env.items():
        if key.startswith("FLASK_") and key not in ("FLASK_APP", "FLASK_RUN_FROM_CLI"):
            name = key[len("FLASK_") :]
            try:
                decoded: object = json.loads(value)
            except ValueError:
                decoded = value
            _set_nested(app.config, name, decoded)
    app.config.update(overrides or {})
    _settings.apply(app.config, env, app.name)
    app.extensions[CONFIG_LOADED] = True


def _set_nested(config: dict[str, typing.Any], name: str, value: object) -> None:
    # from_prefixed_env's rule: A__B sets config["A"]["B"].
    if "__" not in name:
        config[name] = value
        return
    *parents, last = name.split("__")
    current = config
    for parent in parents:
        current = current.setdefault(parent, {})
    current[last] = value


def register_check(
    app: flask.Flask, name: str, func: _checks.CheckFunction, failure_level: int = _checks.ERROR
) -> None:
    """Register a check on one app (its FlaskK8s must be initialised)."""
    _state(app).registry.register(name, func, failure_level=failure_level)


def _state(app: flask.Flask) -> _State:
    try:
        return typing.cast("_State", app.extensions[EXTENSION_KEY])
    except KeyError:
        raise RuntimeError("FlaskK8s is not initialised on this app: call init_app") from None


def _redis_client(state: _State) -> typing.Any:
    with state.redis_lock:
        if state.redis is None or state.redis[0] != os.getpid():
            url = state.app.config.get("REDIS_URL")
            if not url:
                raise RuntimeError("no Redis configured: the charm sets REDIS_DB_CONNECT_STRING")
            redis = _builtin_checks.require("redis", "the Redis client", "redis")
            client = redis.Redis.from_url(
                str(url), socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
            )
            state.redis = (os.getpid(), client)
        return state.redis[1]


# -- health endpoints -----------------------------------------------------------------------


def _no_store(response: flask.Response) -> flask.Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _lbheartbeat() -> flask.Response:
    """The process answers: nothing else is looked at."""
    return _no_store(flask.Response(b"", status=200, mimetype="application/json"))


def _run_checks(state: _State) -> _checks.HeartbeatResult:
    config = state.app.config
    return state.registry.run(
        timeout=_settings.as_float(config["K8S_CHECK_TIMEOUT"], 2.0),
        cache_seconds=_settings.as_float(config["K8S_HEARTBEAT_CACHE_SECONDS"], 0.0),
        silenced=_settings.as_list(config["K8S_SILENCED_CHECKS"]),
    )


def _show_details(app: flask.Flask) -> bool:
    setting = app.config["K8S_HEARTBEAT_DETAILS"]
    if setting is not None:
        return _settings.as_bool(setting)
    # Messages can name hosts and errors: shown to Pebble and local callers, and in debug,
    # but not through the ingress.
    remote = flask.request.remote_addr or ""
    return app.debug or remote in ("127.0.0.1", "::1") or remote.startswith("127.")


def _heartbeat() -> flask.Response:
    """Every check, each within its timeout: 200 below ERROR, the failure status at or above."""
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    state = _state(app)
    result = _run_checks(state)
    failed = result.failed()
    signal = heartbeat_failed if failed else heartbeat_passed
    signal.send(app, level=result.level, result=result)
    code = 200
    if failed:
        code = int(_settings.as_float(app.config["K8S_HEARTBEAT_FAILED_STATUS_CODE"], 500))
    body = json.dumps(result.body(_show_details(app)))
    return _no_store(flask.Response(body, status=code, mimetype="application/json"))


def version_paths(app: flask.Flask) -> list[pathlib.Path]:
    """Where version.json is looked for, in order."""
    configured = app.config.get("K8S_VERSION_PATH")
    paths: list[pathlib.Path] = []
    if configured:
        path = pathlib.Path(str(configured))
        paths.append(path if path.suffix == ".json" else path / "version.json")
    root = pathlib.Path(app.root_path)
    paths += [
        root / "version.json",
        root.parent / "version.json",
        pathlib.Path("/app/version.json"),
    ]
    return list(dict.fromkeys(paths))


def _version() -> flask.Response:
    """version.json from the rock, or a 404 saying where it was looked for."""
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    state = _state(app)
    with state.version_lock:
        if state.version is None:
            for path in version_paths(app):
                try:
                    text = path.read_text()
                except OSError:
                    continue
                try:
                    state.version = json.loads(text)
                except ValueError:
                    body = {"error": f"{path} is not valid JSON"}
                    return _no_store(
                        flask.Response(json.dumps(body), 500, mimetype="application/json")
                    )
                break
        version = state.version
    if version is None:
        body = {
            "error": "version.json not found",
            "looked_in": [str(path) for path in version_paths(app)],
        }
        return _no_store(flask.Response(json.dumps(body), 404, mimetype="application/json"))
    return _no_store(flask.Response(json.dumps(version), 200, mimetype="application/json"))


def _error() -> typing.NoReturn:
    """Fail on purpose, to see that errors reach the logs and the alerts."""
    _logger.error("The __error__ endpoint was called")
    raise RuntimeError("This is a test exception from the /__error__ endpoint.")


# -- request hooks --------------------------------------------------------------------------


# Each hook looks its context objects up once: every access through Flask's proxies costs.


def _before_request() -> None:
    g = flask.g._get_current_object()  # type: ignore[attr-defined]
    g._flask_k8s_start = time.perf_counter()
    config = flask.current_app.config
    header = str(config["K8S_REQUEST_ID_HEADER"] or "X-Request-ID")
    given = flask.request.headers.get(header, "")
    rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g._flask_k8s_token = _logs.request_id.set(rid)
    if "request_id" not in g:
        g.request_id = rid
    trace = sys.modules.get("opentelemetry.trace")
    if trace is not None:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("http.request.header.x-request-id", rid)


def _record_exception(sender: flask.Flask, exception: BaseException, **_: object) -> None:
    if flask.has_request_context():
        flask.g._flask_k8s_exception = type(exception).__name__


def _after_request(response: flask.Response) -> flask.Response:
    app: flask.Flask = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    request: flask.Request = flask.request._get_current_object()  # type: ignore[attr-defined]
    g = flask.g._get_current_object()  # type: ignore[attr-defined]
    state = _state(app)
    config = app.config
    rid = _logs.request_id.get()
    if rid:
        response.headers[str(config["K8S_REQUEST_ID_HEADER"] or "X-Request-ID")] = rid
    start = g.get("_flask_k8s_start")
    seconds = time.perf_counter() - start if start is not None else 0.0
    rule = request.url_rule
    route = rule.rule if rule is not None else _statsd.UNMATCHED
    status = response.status_code
    health = request.path in HEALTH_PATHS
    if state.statsd is not None and not health:
        exception = g.get("_flask_k8s_exception")
        state.statsd.send(_statsd.lines(route, request.method, status, seconds, exception))
    if _settings.as_bool(config["K8S_SUMMARY_LOG"]):
        _log_summary(
            app, request, state, route=route, status=status, seconds=seconds, health=health
        )
    return response


def _log_summary(
    app: flask.Flask,
    request: flask.Request,
    state: _State,
    *,
    route: str,
    status: int,
    seconds: float,
    health: bool,
) -> None:
    level = logging.DEBUG if health else logging.INFO
    if not _summary.isEnabledFor(level):
        return
    fields: dict[str, typing.Any] = {
        "http.request.method": request.method,
        "url.path": request.path,
        "http.route": route,
        "http.response.status_code": status,
        "duration_ms": round(seconds * 1000, 3),
        "errno": status if status >= 400 else 0,
    }
    agent = request.headers.get("User-Agent")
    if agent:
        fields["user_agent.original"] = agent
    lang = request.headers.get("Accept-Language")
    if lang:
        fields["http.request.header.accept-language"] = lang
    if _settings.as_bool(app.config["K8S_SUMMARY_LOG_QUERYSTRING"]) and request.query_string:
        fields["url.query"] = request.query_string.decode("latin-1")
    uid = _user_id(state)
    if uid:
        fields["user.id"] = uid
    _summary.log(level, "%s %s %s", request.method, request.path, status, extra=fields)


def _user_id(state: _State) -> str | None:
    if state.user_id is not None:
        try:
            return state.user_id()
        except Exception:
            return None
    login = sys.modules.get("flask_login")
    if login is None or not hasattr(state.app, "login_manager"):
        return None
    try:
        user = login.current_user
        authenticated = user.is_authenticated
        if callable(authenticated):
            authenticated = authenticated()
        return str(user.get_id()) if authenticated else None
    except Exception:
        return None


def _teardown_request(_error: BaseException | None) -> None:
    token = flask.g.pop("_flask_k8s_token", None)
    if token is not None:
        try:
            _logs.request_id.reset(token)
        except ValueError:
            _logs.request_id.set(None)


# -- tracing --------------------------------------------------------------------------------


def _maybe_trace(app: flask.Flask) -> None:
    """Instrument the app when the charm set an OTLP endpoint (or K8S_TRACING says so)."""
    setting = app.config["K8S_TRACING"]
    enabled = (
        _settings.as_bool(setting)
        if setting is not None
        else bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    )
    if not enabled:
        return
    instrumentation = _builtin_checks.require(
        "opentelemetry.instrumentation.flask", "tracing (OTEL_EXPORTER_OTLP_ENDPOINT)", "tracing"
    )
    # The spans join the worker's tracer provider, which flask-k8s's gunicorn config sets
    # up after the fork; health probes make no spans.
    instrumentation.FlaskInstrumentor().instrument_app(
        app, excluded_urls=",".join(path.strip("/") for path in (*HEALTH_PATHS, ERROR))
    )
