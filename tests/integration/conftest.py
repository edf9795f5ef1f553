"""A real workload: Pebble, gunicorn, Flask and the statsd exporter on this machine.

The rock's files come from `make setup` (/opt/flask-k8s); the example app is installed in
/flask/app; Pebble runs as root in a temporary PEBBLE directory with the rock's layer. The
library's plan is applied through ops' real Pebble client, exactly as the charm applies it.
Missing tools fail the suite: it never skips.
"""

from __future__ import annotations

import collections.abc
import contextlib
import http.server
import json
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import typing
import urllib.error
import urllib.request

import ops
import pytest

import flask_k8s
from flask_k8s import _juju_secrets as secrets
from flask_k8s import _pebble_apply as workload
from flask_k8s import _spec as spec
from flask_k8s import _status as status
from flask_k8s import local

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE_APP = REPO / "examples" / "flask-app"
APP_DIR = pathlib.Path("/flask/app")
MIGRATIONS_LOG = pathlib.Path("/tmp/flask-app-migrations.log")
URL = "http://localhost:8000"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def rock() -> local.Rock:
    if os.geteuid() != 0:
        pytest.fail("the integration tests run as root, as Pebble does in a workload container")
    rock = local.Rock()
    missing = rock.missing()
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; run `make setup`")
    return rock


class Workload:
    """A running Pebble with the rock's layer, and the charm's reconcile against it."""

    def __init__(self, rock: local.Rock, directory: pathlib.Path, layer: dict[str, typing.Any]):
        self.pebble = local.Pebble(rock, directory, layer)
        self.log = (directory / "pebble.log").open("wb")
        self.pebble.start(self.log)
        self.container = self.pebble.container()
        self.secret_key = secrets.new_key()
        # The rock's names and the checks' timing the reconcile uses.
        self.workload_spec = spec.FLASK

    def reconcile(
        self, related: flask_k8s.Integrations | None = None, **values: typing.Any
    ) -> str:
        """Apply the charm's plan for these config values; returns the resulting status.

        ``related`` stands in for ``relations.collect``: what related applications give.
        """
        config = {"flask-preferred-url-scheme": "HTTPS", **values}
        try:
            state = local.local_state(
                config,
                self.secret_key,
                integrations=None if related is None else (lambda: related),
            )
            workload.reconcile(self.container, state, self.workload_spec)
        except status.StatusError as error:
            return f"{type(error).__name__.lower()}: {error.message}"
        return "active"

    def close(self) -> None:
        self.pebble.stop()
        self.log.close()


@pytest.fixture
def app_files() -> collections.abc.Iterator[pathlib.Path]:
    """A fresh copy of the example app in /flask/app, and an empty migrations log."""
    local.install_app(EXAMPLE_APP)
    MIGRATIONS_LOG.unlink(missing_ok=True)
    yield APP_DIR
    MIGRATIONS_LOG.unlink(missing_ok=True)


@pytest.fixture
def make_workload(
    rock: local.Rock, app_files: pathlib.Path, tmp_path: pathlib.Path
) -> collections.abc.Iterator[collections.abc.Callable[..., Workload]]:
    """Start Pebble with the rock's layer (optionally with extra services)."""
    started: list[Workload] = []

    def make(extra_services: dict[str, typing.Any] | None = None) -> Workload:
        if started:  # A second container starts as fresh as the first.
            local.install_app(EXAMPLE_APP)
        layer = rock.layer()
        layer["services"].update(extra_services or {})
        started.append(Workload(rock, tmp_path / f"pebble-{len(started)}", layer))
        return started[-1]

    yield make
    for item in started:
        item.close()
    # Nothing may be left listening for the next test.
    wait_until(lambda: not answers(URL), "gunicorn to stop")


@pytest.fixture
def pebble(rock: local.Rock, tmp_path: pathlib.Path) -> collections.abc.Iterator[local.Pebble]:
    """A bare Pebble with the rock's layer, for tests that reconcile with their own spec."""
    local.install_app(EXAMPLE_APP)
    daemon = local.Pebble(rock, tmp_path / "pebble", rock.layer())
    with (tmp_path / "pebble.log").open("wb") as log:
        daemon.start(log)
        yield daemon
        daemon.stop()
    wait_until(lambda: not answers(URL), "gunicorn to stop")


@pytest.fixture
def flask_workload(make_workload: collections.abc.Callable[..., Workload]) -> Workload:
    return make_workload()


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (a local URL)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def get_json(path: str, timeout: float = 30) -> dict[str, typing.Any]:
    """GET a page of the app, waiting for it to serve."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(URL + path, timeout=5) as response:  # noqa: S310
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_until(
    condition: collections.abc.Callable[[], bool], what: str, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def service_running(container: ops.Container, name: str) -> bool:
    return container.get_service(name).is_running()


def request(method: str, path: str, timeout: float = 30) -> tuple[int, dict[str, typing.Any]]:
    """Any request to the app, waiting for it to serve: the status and the JSON answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            req = urllib.request.Request(URL + path, method=method)  # noqa: S310
            with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# Real backing services: throwaway PostgreSQL and Redis servers from Debian's packages
# (`make setup` installs them), on free ports of 127.0.0.1, for the whole session.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(
    *command: str | pathlib.Path, cwd: pathlib.Path, check: bool = True, **kwargs: typing.Any
) -> str:
    """Run a PostgreSQL program as the `postgres` user (initdb and postgres refuse root)."""
    result = subprocess.run(
        [str(part) for part in command],
        user="postgres",
        group="postgres",
        extra_groups=[],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )
    if check and result.returncode != 0:
        pytest.fail(f"{pathlib.Path(command[0]).name} failed: {result.stderr.strip()}")
    return result.stdout


class Postgresql:
    """A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1:``port``.

    TCP connections must give a password (SCRAM); the test itself connects as the superuser
    through the Unix socket in the directory, where `postgres` is trusted.
    """

    def __init__(self, bin_dir: pathlib.Path, directory: pathlib.Path):
        self.bin_dir = bin_dir
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()

    def start(self) -> None:
        as_postgres(
            self.bin_dir / "initdb",
            "--pgdata",
            self.data,
            "--username=postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
            cwd=self.directory,
        )
        self.launch()

    def launch(self) -> None:
        """Start the initialised server (again, after ``stop``)."""
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c fsync=off"
        )
        as_postgres(
            self.bin_dir / "pg_ctl",
            "start",
            "--wait",
            "--pgdata",
            self.data,
            "--log",
            self.directory / "server.log",
            "-o",
            options,
            cwd=self.directory,
        )

    def stop(self) -> None:
        """Stop the server if it runs."""
        as_postgres(
            self.bin_dir / "pg_ctl",
            "stop",
            "--wait",
            "--mode=immediate",
            "--pgdata",
            self.data,
            cwd=self.directory,
            check=False,
        )

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run SQL as the superuser; the rows, one a line, fields separated by `|`."""
        return as_postgres(
            self.bin_dir / "psql",
            "--no-psqlrc",
            "--quiet",
            "--tuples-only",
            "--no-align",
            "--set=ON_ERROR_STOP=1",
            f"--host={self.directory}",
            f"--port={self.port}",
            "--username=postgres",
            f"--dbname={database}",
            cwd=self.directory,
            input=statement,
        ).strip()


@pytest.fixture(scope="session")
def postgresql() -> collections.abc.Iterator[Postgresql]:
    """A PostgreSQL server from Debian's packages, for the session."""
    found = sorted(
        pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if not found:
        pytest.fail("PostgreSQL is not installed (/usr/lib/postgresql/*/bin); run `make setup`")
    directory = pathlib.Path(tempfile.mkdtemp(prefix="flask-k8s-postgresql-"))
    user = pwd.getpwnam("postgres")
    os.chown(directory, user.pw_uid, user.pw_gid)
    server = Postgresql(found[-1].parent, directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


class Redis:
    """A redis-server on 127.0.0.1:``port``, keeping nothing on disk."""

    def __init__(self, server: str, cli: str, directory: pathlib.Path):
        self.cli = cli
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def command(self, *args: str) -> str:
        """A redis-cli command against this server; its raw answer."""
        result = subprocess.run(
            [self.cli, "-h", "127.0.0.1", "-p", str(self.port), "--raw", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def redis() -> collections.abc.Iterator[Redis]:
    """A Redis server from Debian's packages, for the session."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        pytest.fail("Redis is not installed (redis-server, redis-cli); run `make setup`")
    directory = pathlib.Path(tempfile.mkdtemp(prefix="flask-k8s-redis-"))
    instance = Redis(server, cli, directory)
    try:
        wait_until(lambda: instance.command("PING") == "PONG", "redis-server to answer")
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(directory, ignore_errors=True)


# What postgresql-k8s creates for the relation: a user per relation and its password. This
# one needs percent-encoding in a URL: every character that means something there.
USER = "relation-7"
PASSWORD = "p@ss:/?#% w"


@pytest.fixture
def database(postgresql) -> str:
    """A fresh database `flask-k8s`, owned by the relation's user, as the provider leaves it."""
    reset = f"""
        DROP DATABASE IF EXISTS "flask-k8s" WITH (FORCE);
        DROP DATABASE IF EXISTS "flask-k8s-2" WITH (FORCE);
        DROP ROLE IF EXISTS "{USER}";
        CREATE ROLE "{USER}" LOGIN PASSWORD '{PASSWORD}';
        CREATE DATABASE "flask-k8s" OWNER "{USER}";
    """
    postgresql.sql(reset)
    return "flask-k8s"


@pytest.fixture
def cache(redis):
    """The Redis server, emptied."""
    redis.command("FLUSHALL")
    return redis


def service_logs(pebble: local.Pebble, service: str) -> list[str]:
    """The lines Pebble keeps of a service's output (stdout and stderr), oldest first."""
    result = subprocess.run(
        [str(pebble.rock.pebble), "logs", service, "-n", "all", "--format", "json"],
        env={**os.environ, "PEBBLE": str(pebble.directory)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [json.loads(line)["message"].rstrip("\n") for line in result.stdout.splitlines()]


ServerT = typing.TypeVar("ServerT", bound=http.server.HTTPServer)


@contextlib.contextmanager
def serving(server: ServerT) -> collections.abc.Iterator[ServerT]:
    """Serve ``server`` (a local receiver the workload sends to) in a thread meanwhile."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
