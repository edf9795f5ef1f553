"""flask_k8s_app: the app side of flask-k8s.

- ``FlaskK8s``: the Flask extension. It loads the charm's variables into ``app.config``,
  answers Dockerflow's ``/__lbheartbeat__``, ``/__heartbeat__`` and ``/__version__`` (which
  the charm wires into Pebble's checks and ``juju status``), logs a JSON summary of every
  request with its request and trace ids, sends per-route metrics to the rock's statsd
  exporter, and instruments Flask for tracing when the charm set an OTLP endpoint.
- ``create_app``: an app factory that loads extensions in a declared order.
- ``Debug`` ... ``Critical``: what a heartbeat check returns.
"""

from ._builtin_checks import MissingExtra
from ._checks import (
    CRITICAL,
    DEBUG,
    ERROR,
    INFO,
    WARNING,
    CheckMessage,
    CheckResult,
    Critical,
    Debug,
    Error,
    HeartbeatResult,
    Info,
    Warning,
    level_text,
)
from ._extension import FlaskK8s, heartbeat_failed, heartbeat_passed, load_config
from ._factory import Cache, Cors, Database, Log, SecurityHeaders, create_app, extension

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "WARNING",
    "Cache",
    "CheckMessage",
    "CheckResult",
    "Cors",
    "Critical",
    "Database",
    "Debug",
    "Error",
    "FlaskK8s",
    "HeartbeatResult",
    "Info",
    "Log",
    "MissingExtra",
    "SecurityHeaders",
    "Warning",
    "create_app",
    "extension",
    "heartbeat_failed",
    "heartbeat_passed",
    "level_text",
    "load_config",
]
