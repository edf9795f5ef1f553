"""Shared pieces for the flask_k8s_app tests: an app, a statsd listener, a fake Redis, logs."""

from __future__ import annotations

import collections.abc
import json
import pathlib
import socket
import threading
import typing

import flask

import flask_k8s_app

# What every test app starts with: no metrics unless a test listens for them, a short check
# timeout, no heartbeat cache (each request runs the checks), JSON logs.
BASE_CONFIG: dict[str, typing.Any] = {
    "K8S_METRICS": False,
    "K8S_CHECK_TIMEOUT": 0.3,
    "K8S_HEARTBEAT_CACHE_SECONDS": 0,
    "K8S_LOG_FORMAT": "json",
}
REMOTE = {"REMOTE_ADDR": "10.1.2.3"}


def make_app(
    root: pathlib.Path,
    config: collections.abc.Mapping[str, typing.Any] | None = None,
    *,
    name: str = "testapp",
    **kwargs: typing.Any,
) -> tuple[flask.Flask, flask_k8s_app.FlaskK8s]:
    """A Flask app rooted at ``root`` with FlaskK8s initialised (``kwargs`` go to FlaskK8s)."""
    app = flask.Flask(name, root_path=str(root))
    app.config.update({**BASE_CONFIG, **(config or {})})
    kwargs.setdefault("logging", False)
    return app, flask_k8s_app.FlaskK8s(app, **kwargs)


def heartbeat(app: flask.Flask, remote: str = "127.0.0.1") -> tuple[int, dict[str, typing.Any]]:
    """The heartbeat's status code and JSON body, asked from ``remote``."""
    response = app.test_client().get("/__heartbeat__", environ_base={"REMOTE_ADDR": remote})
    return response.status_code, typing.cast("dict[str, typing.Any]", response.get_json())


def messages(body: collections.abc.Mapping[str, typing.Any], check: str) -> dict[str, str]:
    """One check's messages in a heartbeat body with details."""
    return dict(body["details"].get(check, {}).get("messages", {}))


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def waits_for(event: threading.Event) -> collections.abc.Callable[[], None]:
    """A check that hangs until ``event`` is set."""

    def hung() -> None:
        event.wait()

    return hung


def json_lines(text: str) -> list[dict[str, typing.Any]]:
    """The JSON log lines in captured output."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def by_logger(lines: list[dict[str, typing.Any]], name: str) -> list[dict[str, typing.Any]]:
    """The JSON lines one logger wrote."""
    return [line for line in lines if line["attributes"]["logger.name"] == name]


class Statsd:
    """A UDP socket on 127.0.0.1 standing where the statsd exporter listens."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(2.0)

    @property
    def address(self) -> str:
        """host:port, as K8S_STATSD_HOST takes it."""
        host, port = self.socket.getsockname()
        return f"{host}:{port}"

    def receive(self) -> list[Metric]:
        """The next datagram's metrics (waiting up to 2 s)."""
        data, _ = self.socket.recvfrom(65536)
        return [Metric.parse(line) for line in data.decode().split("\n")]

    def pending(self, wait: float = 0.2) -> list[bytes]:
        """Every datagram that arrives within ``wait`` seconds."""
        self.socket.settimeout(wait)
        received: list[bytes] = []
        try:
            while True:
                received.append(self.socket.recvfrom(65536)[0])
        except TimeoutError:
            return received
        finally:
            self.socket.settimeout(2.0)

    def close(self) -> None:
        self.socket.close()


class Metric(typing.NamedTuple):
    """One DogStatsD line: name:value|type|#tag:value,..."""

    name: str
    value: float
    type: str
    tags: dict[str, str]

    @classmethod
    def parse(cls, line: str) -> Metric:
        head, _, tags = line.partition("|#")
        name_value, _, kind = head.partition("|")
        name, _, value = name_value.partition(":")
        pairs = (tag.partition(":") for tag in tags.split(",") if tag)
        return cls(name, float(value), kind, {key: val for key, _, val in pairs})


class FakeRedis:
    """A TCP server on 127.0.0.1 that speaks just enough RESP3 to answer PING its own way.

    It stands for a Redis that answers PING with an error or with something else than PONG,
    which a unit test cannot make a real server do on demand.
    """

    HELLO = b"%1\r\n+proto\r\n:3\r\n"

    def __init__(self, ping: bytes) -> None:
        self.ping = ping
        self.commands: list[list[bytes]] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection: socket.socket) -> None:
        buffer = b""
        with connection:
            while data := connection.recv(65536):
                buffer += data
                while (parsed := _command(buffer)) is not None:
                    command, buffer = parsed
                    self.commands.append(command)
                    connection.sendall(self._reply(command[0].upper()))

    def _reply(self, name: bytes) -> bytes:
        return {b"HELLO": self.HELLO, b"PING": self.ping}.get(name, b"+OK\r\n")

    def close(self) -> None:
        self.server.close()


def _command(buffer: bytes) -> tuple[list[bytes], bytes] | None:
    """One RESP command off the front of ``buffer``, or None while it is incomplete."""
    if not buffer.startswith(b"*") or b"\r\n" not in buffer:
        return None
    head, rest = buffer.split(b"\r\n", 1)
    arguments: list[bytes] = []
    for _ in range(int(head[1:])):
        if b"\r\n" not in rest:
            return None
        size, rest = rest.split(b"\r\n", 1)
        length = int(size[1:])
        if len(rest) < length + 2:
            return None
        arguments.append(rest[:length])
        rest = rest[length + 2 :]
    return arguments, rest


ENV_PY = '''\
"""Alembic's environment, as Flask-Migrate's template has it, without its logging setup."""

from alembic import context
from flask import current_app

migrate = current_app.extensions["migrate"]
with migrate.db.engine.connect() as connection:
    context.configure(connection=connection, **migrate.configure_args)
    with context.begin_transaction():
        context.run_migrations()
'''

REVISION = """\
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table({table!r}, sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table({table!r})
"""


def write_migrations(directory: pathlib.Path, tables: collections.abc.Sequence[str]) -> list[str]:
    """An Alembic migrations directory whose revisions create ``tables``, one each, in order.

    Returns the revision ids, oldest first.
    """
    versions = directory / "versions"
    versions.mkdir(parents=True)
    (directory / "env.py").write_text(ENV_PY)
    revisions: list[str] = []
    down: str | None = None
    for index, table in enumerate(tables, start=1):
        revision = f"{index:04d}"
        source = REVISION.format(revision=revision, down=down, table=table)
        (versions / f"{revision}_{table}.py").write_text(source)
        revisions.append(revision)
        down = revision
    return revisions


def tables(database: pathlib.Path) -> set[str]:
    """The tables in a SQLite file."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}
