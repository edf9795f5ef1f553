"""The app's logs: JSON lines in the charm's gunicorn schema, mozlog, or text for a terminal.

``json`` is the schema flask-k8s's gunicorn writes with ``framework_logging_format: json``
(``timestamp``, ``severityText``, ``body``, ``traceId``, ``spanId``, ``attributes``), so Loki
gets one format from the server and the app. ``mozlog`` is Dockerflow's envelope. ``text``
is for a developer's terminal, the default when the output is one or the app is in debug.
Every record carries the request id and, when the request is traced, its trace and span ids.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import socket
import sys
import typing

FORMATS = ("json", "mozlog", "text", "none")
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flask_k8s_app_request_id", default=None
)

# What every LogRecord has; anything else came through ``extra=`` and is the line's own.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", "request_id", "trace_id", "span_id"}
)


def span_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids, when OpenTelemetry is there and one is recording."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


class ContextFilter(logging.Filter):
    """Stamps each record with the request id and the trace and span ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the ids; never drop a record."""
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        if not hasattr(record, "trace_id"):
            ids = span_ids()
            record.trace_id, record.span_id = ids if ids else (None, None)
        return True


def _extras(record: logging.LogRecord) -> dict[str, typing.Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """The charm's JSON line: OpenTelemetry's log data model, flattened."""

    _SEVERITY: typing.ClassVar[dict[str, str]] = {"WARNING": "WARN", "CRITICAL": "FATAL"}

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON."""
        created = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
        line: dict[str, typing.Any] = {
            "timestamp": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "severityText": self._SEVERITY.get(record.levelname, record.levelname),
            "body": record.getMessage(),
        }
        trace_id = getattr(record, "trace_id", None)
        if trace_id:
            line["traceId"], line["spanId"] = trace_id, getattr(record, "span_id", None)
        attributes: dict[str, typing.Any] = {
            "logger.name": record.name,
            "process.pid": record.process,
        }
        rid = getattr(record, "request_id", None)
        if rid:
            attributes["request_id"] = rid
        attributes.update(_extras(record))
        if record.exc_info and record.exc_info[0] is not None:
            kind, error = record.exc_info[0], record.exc_info[1]
            module = getattr(kind, "__module__", "builtins")
            name = kind.__qualname__
            attributes["exception.type"] = name if module == "builtins" else f"{module}.{name}"
            attributes["exception.message"] = str(error)
            attributes["exception.stacktrace"] = self.formatException(record.exc_info)
        line["attributes"] = attributes
        return json.dumps(line, default=str)


class MozlogFormatter(logging.Formatter):
    """Dockerflow's mozlog envelope: the record's own fields under ``Fields``."""

    _SEVERITY: typing.ClassVar[dict[int, int]] = {50: 2, 40: 3, 30: 4, 20: 6, 10: 7}

    def __init__(self, logger_name: str = "flask-k8s-app") -> None:
        super().__init__()
        self.logger_name = logger_name
        self.hostname = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON."""
        fields = _extras(record)
        message = record.getMessage()
        if message:
            fields["msg"] = message
        for name in ("request_id", "trace_id", "span_id"):
            value = getattr(record, name, None)
            if value:
                fields["rid" if name == "request_id" else name] = value
        if record.exc_info and record.exc_info[0] is not None:
            fields["error"] = repr(record.exc_info[1])
            fields["traceback"] = self.formatException(record.exc_info)
        line = {
            "Timestamp": int(record.created * 1e9),
            "Type": record.name,
            "Logger": self.logger_name,
            "Hostname": self.hostname,
            "EnvVersion": "2.0",
            "Severity": self._SEVERITY.get(record.levelno, 7),
            "Pid": record.process,
            "Fields": fields,
        }
        return json.dumps(line, default=repr)


class TextFormatter(logging.Formatter):
    """A line a person reads: time, level, logger, message, then the fields given."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The message and its fields as key=value."""
        text = super().format(record)
        fields = _extras(record)
        rid = getattr(record, "request_id", None)
        if rid:
            fields = {"rid": rid, **fields}
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return text


class Handler(logging.StreamHandler[typing.TextIO]):
    """The handler this library installs on the root logger, once per process."""


def default_format(debug: bool, stream: typing.TextIO) -> str:
    """JSON in a container, text in a terminal or in debug."""
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return "text" if debug or interactive else "json"


def formatter(name: str, logger_name: str) -> logging.Formatter:
    """The formatter a format name stands for."""
    if name == "mozlog":
        return MozlogFormatter(logger_name)
    if name == "text":
        return TextFormatter()
    return JsonFormatter()


def install(log_format: str, level: int | str, logger_name: str) -> Handler | None:
    """Send the root logger's records to stdout in ``log_format``, replacing an earlier install.

    ``none`` leaves logging as the app set it. Otherwise the root logger's console handlers
    (gunicorn's config puts one there) give way to this one, so each line is written once;
    other handlers (files, a test's capture) stay. A second install (a second app in the
    process, a test) replaces the first instead of doubling every line.
    """
    if log_format == "none":
        return None
    root = logging.getLogger()
    for handler in list(root.handlers):
        console = isinstance(handler, logging.StreamHandler) and getattr(
            handler, "stream", None
        ) in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        if isinstance(handler, Handler) or console:
            root.removeHandler(handler)
    handler = Handler(sys.stdout)
    handler.setFormatter(formatter(log_format, logger_name))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler
