"""Fixtures for the flask_k8s_app tests: a clean environment and logging, and real sockets."""

from __future__ import annotations

import collections.abc
import logging
import os
import socket
import threading

import pytest

from flask_k8s_app import _logs
from tests.unit.app import helpers

# The variables the charm hands the app: none of the developer's own may leak into a test.
_CHARM_PREFIXES = (
    "FLASK_",
    "DOCKERFLOW_",
    "POSTGRESQL_",
    "MYSQL_",
    "REDIS_",
    "VALKEY_",
    "RABBITMQ_",
    "SMTP_",
    "S3_",
    "SAML_",
    "FGA_",
    "OTEL_",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_CHARM_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _restore_logging() -> collections.abc.Iterator[None]:
    """Take away the handler the package installs on the root logger, and put back its level
    and the console handlers it replaced (pytest's own capture handlers come and go by phase).
    """
    root = logging.getLogger()
    level = root.level
    others = [h for h in root.handlers if not type(h).__module__.startswith("_pytest")]
    yield
    for handler in list(root.handlers):
        if isinstance(handler, _logs.Handler):
            root.removeHandler(handler)
    for handler in others:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def gate() -> collections.abc.Iterator[threading.Event]:
    """An event a hung check waits on; set when the test ends, so its thread ends too."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def statsd() -> collections.abc.Iterator[helpers.Statsd]:
    receiver = helpers.Statsd()
    yield receiver
    receiver.close()


@pytest.fixture
def hung_server() -> collections.abc.Iterator[int]:
    """A TCP port on 127.0.0.1 that takes connections and never answers: a hung server."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()
