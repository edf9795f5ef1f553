"""A real workload: Pebble, gunicorn, Flask and the statsd exporter on this machine.

The rock's files come from `make setup` (/opt/flask-k8s); the example app is installed in
/flask/app; Pebble runs as root in a temporary PEBBLE directory with the rock's layer. The
library's plan is applied through ops' real Pebble client, exactly as the charm applies it.
Missing tools fail the suite: it never skips.
"""

from __future__ import annotations

import collections.abc
import json
import os
import pathlib
import time
import typing
import urllib.error
import urllib.request

import ops
import pytest

from flask_k8s import local, secrets, spec, status, workload

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

    def reconcile(self, **values: typing.Any) -> str:
        """Apply the charm's plan for these config values; returns the resulting status."""
        config = {"flask-preferred-url-scheme": "HTTPS", **values}
        try:
            state = local.local_state(config, self.secret_key)
            workload.reconcile(self.container, state, spec.FLASK)
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
