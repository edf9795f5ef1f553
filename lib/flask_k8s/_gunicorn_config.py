"""gunicorn: the config file the charm writes, and the service command's worker class.

The file is Python that gunicorn executes, so only values the charm validated (integers) and
the spec's own paths go in, each written with ``repr``: no config or relation value can add
code to it. The rest of the file is fixed text: ``gunicorn_master`` (the app's settings,
the default sizing, rolling reloads), the hooks that add the ingress prefix, set up tracing
and format JSON logs, each block included or not.
"""

from __future__ import annotations

import functools
import pathlib
import shlex

from . import _config, _spec, _status

# gunicorn sends its error log to stderr; these handlers send both logs to stdout, where
# Pebble collects (and later forwards) them.
_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {
            "level": "INFO",
            "handlers": ["error_console"],
            "propagate": False,
            "qualname": "gunicorn.error",
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["console"],
            "propagate": False,
            "qualname": "gunicorn.access",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stdout",
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "error",
            "stream": "ext://sys.stdout",
        },
    },
    "formatters": {
        "access": {"format": "%(message)s"},
        "error": {
            "format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
        },
    },
}


# gunicorn's default access line, plus the request's X-Request-ID (the one the client or the
# ingress sent: a request header, so the line can be matched with the ingress's own log).
# paas-charm logs the response header there (%({x-request-id}o)s), which only an app that
# echoes the id sets.
TRACING_ACCESS_LOG_FORMAT = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}i)s'
)


def render_config(
    webserver: _config.WebserverConfig,
    workload_spec: _spec.WorkloadSpec,
    *,
    worker_class: str = "sync",
    tracing: bool = False,
    json_logging: bool = False,
) -> str:
    """The content of gunicorn.conf.py for these settings.

    ``worker_class``: the one the service command runs (its ``-k``), for the default sizing.
    ``tracing``: the tracing relation is ready, so every worker sends the app's spans to it.
    ``json_logging``: paas-config.yaml's ``framework_logging_format: json``.
    """
    settings: list[tuple[str, object]] = [
        ("bind", [f"0.0.0.0:{workload_spec.port}"]),
        ("chdir", workload_spec.app_dir),
        ("accesslog", "-"),
        ("errorlog", "-"),
        ("logconfig_dict", _LOGGING),
        ("statsd_host", workload_spec.statsd_host),
    ]
    tunables = (("timeout", webserver.timeout), ("keepalive", webserver.keepalive))
    settings.extend((name, int(value)) for name, value in tunables if value is not None)
    if tracing:
        settings.append(("access_log_format", TRACING_ACCESS_LOG_FORMAT))
    lines = ["# Written by flask-k8s from the charm's config; local changes are overwritten."]
    lines.extend(f"{name} = {value!r}" for name, value in settings)
    lines.append(f"_SETTINGS_FILE = {workload_spec.settings_file!r}")
    set_workers = None if webserver.workers is None else int(webserver.workers)
    set_threads = None if webserver.threads is None else int(webserver.threads)
    blocks = [
        _MASTER.format(source=repr(_master_source())),
        _SIZING.format(args=repr((worker_class, set_workers, set_threads))),
        _HOOKS,
    ]
    if tracing:
        blocks.append(_TRACING)
    if json_logging:
        blocks.append(_JSON_LOGGING)
    return "\n".join(lines) + "\n" + "".join(blocks)


@functools.cache
def _master_source() -> str:
    """The source of gunicorn_master, which runs in gunicorn's master (read once a hook)."""
    return (pathlib.Path(__file__).parent / "_gunicorn_master.py").read_text(encoding="utf-8")


# flask_k8s/_gunicorn_master.py as a module of its own, so none of its names reads as a
# gunicorn setting here. Its source is the charm's own file, never a config value.
_MASTER = """

import types as _types

_master = _types.ModuleType("flask_k8s_gunicorn_master")
exec(compile({source}, "flask_k8s/_gunicorn_master.py", "exec"), _master.__dict__)
"""

# Workers and threads: a set option wins, an unset one follows the container's CPU and memory,
# computed here, in the workload container, each time gunicorn loads this file.
_SIZING = """

_WORKERS, _THREADS, _SIZED_FOR = _master.sizing(*{args})
workers = _WORKERS
if _THREADS is not None:
    threads = _THREADS
"""

# Static code, the same in every config.
# - An ingress that strips the app's path prefix says which prefix in X-Forwarded-Prefix; from
#   a trusted forwarder (gunicorn's forwarded_allow_ips, which the ingress integration sets),
#   it becomes the WSGI SCRIPT_NAME, so the app's url_for() builds external URLs with it.
# - gunicorn keeps the logger it made from its first config across a SIGHUP reload, so a new
#   log format would only apply after a restart: on_reload gives the logger the new config.
# Optional blocks add to the two lists rather than define these hooks again.
_HOOKS = r"""

# Wrappers of the app, innermost first: each is called as wrap(app, worker) in every worker.
_WSGI_WRAPPERS = []
# Run in the master when it starts and when it reloads this file (SIGHUP).
_MASTER_LOADS = []


def _with_forwarded_prefix(app, worker):
    trusted = worker.cfg.forwarded_allow_ips

    def with_forwarded_prefix(environ, start_response):
        prefix = environ.get("HTTP_X_FORWARDED_PREFIX", "").rstrip("/")
        peer = environ.get("REMOTE_ADDR")
        if prefix.startswith("/") and ("*" in trusted or peer in trusted):
            environ["SCRIPT_NAME"] = prefix + environ.get("SCRIPT_NAME", "")
        return app(environ, start_response)

    return with_forwarded_prefix


_WSGI_WRAPPERS.append(_with_forwarded_prefix)


def post_worker_init(worker):
    for wrap in _WSGI_WRAPPERS:
        worker.wsgi = wrap(worker.wsgi, worker)
    _master.worker_ready(worker)


def _load_settings(server):
    count = _master.apply_settings(server, _SETTINGS_FILE)
    _master.follow_environment(server)
    server.log.info(
        "workers: %s, %s threads each, for %s; %s",
        _WORKERS,
        _THREADS or "no",
        _SIZED_FOR,
        "no settings file" if count is None else f"{count} variables from the settings file",
    )


def on_starting(server):
    _load_settings(server)
    for load in _MASTER_LOADS:
        load(server)


def when_ready(server):
    _master.install_rolling(server)


# A SIGHUP reloads this file, but gunicorn keeps the logger it made from the first one.
def on_reload(server):
    server.log.cfg = server.cfg
    try:
        server.log.setup(server.cfg)
    except Exception:
        # Raising here would stop the master; the app goes on serving with the old format.
        server.log.exception("could not apply the new logging settings")
    _load_settings(server)
    for load in _MASTER_LOADS:
        load(server)
    _master.install_rolling(server)
"""

# With the tracing relation ready: each worker gets a TracerProvider that batches the app's
# spans to the OTLP/HTTP receiver. The SDK reads everything from the variables the charm sets:
# OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds /v1/traces), OTEL_SERVICE_NAME and
# OTEL_RESOURCE_ATTRIBUTES (Resource.create). The app only instruments itself
# (FlaskInstrumentor().instrument_app(app)), as under paas-charm.
# The SDK is imported by the master (on_starting, on_reload), never at the top of the file:
# --check-config and the app work on a rock without it, which then logs one line saying so.
_TRACING = r"""

_TRACING_SDK = {}


def _load_tracing_sdk(server):
    _TRACING_SDK.clear()
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        server.log.warning(
            "tracing is off: the OpenTelemetry SDK is not installed (%s); add "
            "opentelemetry-sdk, opentelemetry-exporter-otlp-proto-http and, for Flask's "
            "spans, opentelemetry-instrumentation-flask to requirements.txt",
            error,
        )
        return
    _TRACING_SDK.update(
        trace=trace,
        exporter=OTLPSpanExporter,
        resource=Resource,
        provider=TracerProvider,
        processor=BatchSpanProcessor,
    )


_MASTER_LOADS.append(_load_tracing_sdk)


# post_fork, not post_worker_init: it runs before the worker imports the app, so whatever the
# app does with the tracer provider at import time finds the real one (as under paas-charm);
# and with the gevent worker, before it monkey-patches, so the exporter's thread is a real
# thread rather than a greenlet. It is after the fork: the master's threads would not survive
# it, so each worker starts its own.
def post_fork(server, worker):
    sdk = _TRACING_SDK
    if not sdk:
        return
    try:
        provider = sdk["provider"](resource=sdk["resource"].create(), shutdown_on_exit=False)
        provider.add_span_processor(sdk["processor"](sdk["exporter"]()))
        sdk["trace"].set_tracer_provider(provider)
    except Exception:
        worker.log.exception("tracing is off in worker %s: its setup failed", worker.pid)
        return
    sdk["worker_provider"] = provider


# The last requests' spans wait in the batch: send them before the worker exits.
def worker_exit(server, worker):
    provider = _TRACING_SDK.pop("worker_provider", None)
    if provider is not None:
        provider.shutdown()
"""

# paas-config.yaml's framework_logging_format: json. Every line on stdout (gunicorn's access
# and error logs, and the app's own logging) is one JSON object with OpenTelemetry's log
# fields, and the trace and span ids when the line belongs to a traced request. It needs no
# SDK: the ids are there only when opentelemetry is importable and a span is active.
# gunicorn writes the access line after the app returned, when the app's span has ended, so a
# wrapper keeps the ids in the WSGI environ when the app starts its response (its span is still
# the current one then); gunicorn hands environ entries to the access line as its {name}e atoms.
_JSON_LOGGING = r"""

import datetime as _datetime
import json as _json
import logging as _logging


def _opentelemetry_trace():
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    return trace


def _current_span_ids(trace):
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def _unquote(value):
    # gunicorn escapes the double quotes of every text atom; this undoes exactly that.
    return value.replace('\\"', '"') if isinstance(value, str) else value


class _JsonFormatter(_logging.Formatter):
    _SEVERITY = {"WARNING": "WARN", "CRITICAL": "FATAL"}

    def __init__(self):
        super().__init__()
        self._trace = _opentelemetry_trace()

    def format(self, record):
        created = _datetime.datetime.fromtimestamp(record.created, _datetime.timezone.utc)
        line = {
            "timestamp": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "severityText": self._SEVERITY.get(record.levelname, record.levelname),
            "body": record.getMessage(),
        }
        attributes = {"logger.name": record.name, "process.pid": record.process}
        atoms = record.args
        if record.name == "gunicorn.access" and isinstance(atoms, dict):
            trace_id = atoms.get("{flask_k8s.trace_id}e")
            span_id = atoms.get("{flask_k8s.span_id}e")
            ids = (trace_id, span_id) if trace_id and span_id else None
            attributes.update(_access_attributes(atoms))
        else:
            ids = _current_span_ids(self._trace)
        if ids is not None:
            line["traceId"], line["spanId"] = ids
        if record.exc_info and record.exc_info[0] is not None:
            kind, error = record.exc_info[0], record.exc_info[1]
            module = getattr(kind, "__module__", "builtins")
            name = kind.__qualname__
            attributes["exception.type"] = name if module == "builtins" else f"{module}.{name}"
            attributes["exception.message"] = str(error)
            attributes["exception.stacktrace"] = self.formatException(record.exc_info)
        line["attributes"] = attributes
        return _json.dumps(line, default=str)


def _access_attributes(atoms):
    status = _unquote(atoms.get("s"))
    try:
        status = int(status)
    except (TypeError, ValueError):
        pass
    attributes = {
        "http.request.method": _unquote(atoms.get("m")),
        "url.path": _unquote(atoms.get("U")),
        "http.response.status_code": status,
        "duration_ms": round(atoms.get("D", 0) / 1000, 3),
    }
    optional = {
        "url.query": atoms.get("q"),
        "client.address": atoms.get("h"),
        "http.request.header.x-request-id": atoms.get("{x-request-id}i"),
    }
    for name, value in optional.items():
        if value not in (None, "", "-"):
            attributes[name] = _unquote(value)
    return attributes


logconfig_dict["formatters"] = {"access": {"()": _JsonFormatter}, "error": {"()": _JsonFormatter}}


# The access line is written after the app returned, when its span has ended: the ids are
# kept in the environ while the app starts its response, and reach the line as {name}e atoms.
def _with_span_ids(app, worker):
    trace = _opentelemetry_trace()
    if trace is None:
        return app

    def with_span_ids(environ, start_response):
        def start_response_with_span_ids(status, headers, *exc_info):
            ids = _current_span_ids(trace)
            if ids is not None:
                environ["flask_k8s.trace_id"], environ["flask_k8s.span_id"] = ids
            return start_response(status, headers, *exc_info)

        return app(environ, start_response_with_span_ids)

    return with_span_ids


_WSGI_WRAPPERS.append(_with_span_ids)
"""


def worker_class(command: str) -> str:
    """The worker class the service command runs: its ``-k``, else gunicorn's ``sync``."""
    args = split_command(command)
    for index, arg in enumerate(args):
        if arg in ("-k", "--worker-class") and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--worker-class="):
            return arg.split("=", 1)[1]
    return "sync"


def split_command(command: str) -> list[str]:
    """A Pebble service command as arguments, without Pebble's ``[ default args ]`` brackets."""
    return [arg for arg in shlex.split(command) if arg not in ("[", "]")]


def set_worker_class(command: str, worker_class: str | None) -> str:
    """The service command with its ``-k`` argument set to ``worker_class``.

    Rewriting is idempotent, so it works on the rock's command and on one already rewritten.
    """
    if worker_class is None:
        return command
    args = shlex.split(command)
    for index, arg in enumerate(args):
        if arg in ("-k", "--worker-class"):
            target = index + 1
            if target < len(args) and args[target] == "[":
                target += 1
            if target < len(args) and args[target] != "]":
                args[target] = worker_class
                return _join(args)
        if arg.startswith("--worker-class="):
            args[index] = f"--worker-class={worker_class}"
            return _join(args)
    raise _status.Blocked(
        "invalid config: webserver-worker-class is set but the rock's flask service command "
        "has no -k argument"
    )


def _join(args: list[str]) -> str:
    """Arguments as a command line; Pebble's ``[ ]`` brackets stay bare, as the rock wrote them."""
    return " ".join(arg if arg in ("[", "]") else shlex.quote(arg) for arg in args)


def check_command(command: str, config_path: str) -> list[str]:
    """The service command, made to check ``config_path`` and the app, then exit."""
    args = split_command(command)
    for index, arg in enumerate(args):
        if arg in ("-c", "--config") and index + 1 < len(args):
            args[index + 1] = config_path
            break
        if arg.startswith("--config="):
            args[index] = f"--config={config_path}"
            break
    else:
        args += ["-c", config_path]
    return [*args, "--check-config"]


def interpreter(command: str) -> str:
    """The Python the rock runs gunicorn with, for running the app's own Python scripts."""
    args = split_command(command)
    if args and _is_python(args):
        return args[0]
    return "python3"


def _is_python(args: list[str]) -> bool:
    return "python" in args[0].rsplit("/", 1)[-1]
