"""flask_k8s_app under the charm: Pebble's checks on its endpoints, and the unit's status.

The second example app (examples/flask-factory-app, built with ``create_app``) runs as the
charm runs it, with real PostgreSQL and Redis servers behind the charm's own integration
code. Pebble checks liveness by a TCP connect and readiness on ``/__heartbeat__``;
the unit's status, as the charm computes it, names what fails, and nothing is restarted.
The package itself installs into a clean virtualenv next to Flask alone.
"""

from __future__ import annotations

import collections.abc
import http.client
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import typing

import pytest

import flask_k8s
from flask_k8s import _pebble_apply as workload
from flask_k8s import _spec as spec
from flask_k8s import local
from tests.integration import test_backing_services as backing
from tests.integration import test_rolling
from tests.integration.conftest import (
    PASSWORD,
    REPO,
    URL,
    Workload,
    answers,
    service_logs,
    wait_until,
)

FACTORY_APP = REPO / "examples" / "flask-factory-app"
# Checks every 2s: the real checks, fast enough for a test.
FAST = flask_k8s.replace(spec.FLASK, check_period=2, check_threshold=2)


@pytest.fixture
def factory(rock: local.Rock, tmp_path: pathlib.Path) -> collections.abc.Iterator[Workload]:
    """The factory example in /flask/app under a real Pebble, reconciled with FAST checks."""
    local.install_app(FACTORY_APP)
    started = Workload(rock, tmp_path / "pebble", rock.layer())
    started.workload_spec = FAST
    yield started
    started.close()
    wait_until(lambda: not answers(URL), "gunicorn to stop")


def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def heartbeat() -> tuple[int, dict[str, typing.Any]]:
    status, body, _ = get("/__heartbeat__")
    return status, json.loads(body)


def passes() -> bool:
    """Whether the heartbeat passes now; False while gunicorn does not answer yet."""
    try:
        return heartbeat()[0] == 200
    except OSError:
        return False


def serve_with_postgresql_and_redis(factory: Workload, postgresql, cache) -> None:
    """The app reconciled with both integrations, once its heartbeat passes."""
    related = backing.related(
        backing.postgresql_answer(postgresql.port), backing.redis_answer(cache.port)
    )
    assert factory.reconcile(related) == "active"
    wait_until(passes, "the heartbeat to pass")


def test_the_charm_checks_the_app_through_its_dockerflow_endpoints(factory, postgresql, database):
    assert factory.reconcile(backing.related(backing.postgresql_answer(postgresql.port))) == (
        "active"
    )

    checks = factory.container.get_plan().checks
    assert checks["flask-alive"].tcp == {"port": 8000}
    assert checks["flask-ready"].http == {"url": "http://localhost:8000/__heartbeat__"}
    # migrate.sh ran flask_k8s_app's entry point: the table is there, the heads match.
    wait_until(passes, "the heartbeat to pass")
    assert heartbeat()[1]["checks"]["migrations"] == "ok"
    assert "notes|relation-7" in backing.tables(postgresql, database)
    wait_until(
        lambda: all(info.successes for info in factory.container.get_checks().values()),
        "every Pebble check to pass",
    )
    assert workload.health(factory.container, FAST) is None


def test_a_database_outage_is_named_in_the_status_within_a_period_and_restarts_nothing(
    factory, postgresql, database, cache
):
    serve_with_postgresql_and_redis(factory, postgresql, cache)
    assert heartbeat()[1]["checks"] | {"notes_table": "-"} == {
        "database": "ok",
        "migrations": "ok",
        "redis": "ok",
        "cache": "ok",
        "notes_table": "-",
    }
    wait_until(lambda: workload.health(factory.container, FAST) is None, "Active")
    pebble_pid = factory.pebble.process.pid
    master = test_rolling._master(pebble_pid)

    postgresql.stop()
    try:
        stopped = time.monotonic()
        wait_until(
            lambda: workload.health(factory.container, FAST) is not None, "the status to change"
        )
        noticed = time.monotonic() - stopped
        message = workload.health(factory.container, FAST)
        assert message is not None
        assert message.startswith("app not ready: readiness check failing for ")
        assert "database (error)" in message
        assert "redis" not in message
        assert PASSWORD not in message
        # Within the readiness check's period (plus the heartbeat's cache and timeout).
        assert noticed < FAST.check_period + 3
        # Readiness only reports: the same gunicorn still answers its liveness endpoint.
        assert get("/__lbheartbeat__")[0] == 200
        assert test_rolling._master(pebble_pid) == master
        status, body = heartbeat()
        assert status == 500
        assert body["checks"]["database"] == "error"
        # Pebble and loopback callers see why; the password never.
        assert "dockerflow.health.E008" in body["details"]["database"]["messages"]
        assert PASSWORD not in json.dumps(body)
    finally:
        postgresql.launch()

    wait_until(lambda: workload.health(factory.container, FAST) is None, "the status to recover")
    assert test_rolling._master(pebble_pid) == master


def test_a_hung_redis_never_holds_the_heartbeat_past_its_timeout(
    factory, postgresql, database, cache
):
    serve_with_postgresql_and_redis(factory, postgresql, cache)

    os.kill(cache.process.pid, signal.SIGSTOP)
    try:
        time.sleep(1.1)  # Past the heartbeat's cache.
        timings = []
        answers_seen = []
        for _ in range(3):
            start = time.monotonic()
            answers_seen.append(heartbeat())
            timings.append(time.monotonic() - start)
        status, body = answers_seen[-1]
        # Pebble gives a check 5s (and its default is 3s): the heartbeat answers well before.
        assert max(timings) < 2.9, timings
        assert status == 500
        assert body["checks"]["redis"] == "error"
        # The cache is optional: its failure warns, it does not fail the heartbeat.
        assert body["checks"]["cache"] == "warning", body
    finally:
        os.kill(cache.process.pid, signal.SIGCONT)
    wait_until(passes, "the heartbeat to pass again")


def test_requests_are_logged_as_json_with_their_request_id_and_route(
    factory, postgresql, database
):
    assert factory.reconcile(backing.related(backing.postgresql_answer(postgresql.port))) == (
        "active"
    )
    wait_until(passes, "the heartbeat to pass")

    status, body, headers = get("/request-id", {"X-Request-ID": "req-4711"})
    assert status == 200
    assert json.loads(body) == {"request_id": "req-4711"}
    assert headers["X-Request-ID"] == "req-4711"
    # An id that is not one (too long, odd characters) is replaced, never logged as given.
    _, body, headers = get("/request-id", {"X-Request-ID": "<script>" * 40})
    generated = json.loads(body)["request_id"]
    assert headers["X-Request-ID"] == generated
    assert "<script>" not in generated

    def summaries() -> list[dict[str, typing.Any]]:
        found = []
        for line in service_logs(factory.pebble, "flask"):
            if not line.startswith("{"):
                continue
            parsed = json.loads(line)
            if parsed.get("attributes", {}).get("logger.name") == "request.summary":
                found.append(parsed)
        return found

    wait_until(
        lambda: any(s["attributes"].get("request_id") == generated for s in summaries()),
        "the summaries in Pebble's log",
    )
    (line,) = [s for s in summaries() if s["attributes"].get("request_id") == "req-4711"]
    assert line["severityText"] == "INFO"
    assert line["attributes"]["http.route"] == "/request-id"
    assert line["attributes"]["http.response.status_code"] == 200
    assert line["attributes"]["duration_ms"] > 0
    # Pebble's probes are logged at DEBUG: not at all at the default level.
    assert not any(s["attributes"]["url.path"].startswith("/__") for s in summaries())


def _setup_uv() -> list[str]:
    """The uv `make setup` ran (``python3 -m uv``, the first python3 on PATH that has it).

    tox puts its own environment's python3 first on PATH; it has no uv.
    """
    for directory in [sys.prefix + "/bin", *os.environ.get("PATH", "").split(os.pathsep)]:
        python = pathlib.Path(directory) / "python3"
        if not python.exists():
            continue
        command = [str(python), "-m", "uv"]
        if subprocess.run([*command, "--version"], capture_output=True, check=False).returncode:
            continue
        return command
    pytest.fail("no python3 on PATH has uv, which `make setup` installs; run `make setup`")


def test_the_package_installs_in_a_clean_virtualenv_with_flask_alone(tmp_path):
    venv = tmp_path / "venv"
    uv = _setup_uv()
    subprocess.run([*uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    # Offline: Flask comes from uv's cache, which `make setup` filled; nothing else is needed.
    subprocess.run(
        [
            *uv,
            "pip",
            "install",
            "-q",
            "--offline",
            "--python",
            str(venv / "bin" / "python"),
            str(REPO / "flask-k8s-app"),
        ],
        check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    script = """
import json, sys
import flask, flask_k8s_app
app = flask.Flask("clean")
app.config["K8S_LOG_FORMAT"] = "none"
ext = flask_k8s_app.FlaskK8s(app)
client = app.test_client()
heavy = [m for m in ("sqlalchemy", "redis", "ops", "opentelemetry") if m in sys.modules]
print(json.dumps({
    "lb": client.get("/__lbheartbeat__").status_code,
    "hb": client.get("/__heartbeat__").get_json(),
    "heavy": heavy,
}))
try:
    flask_k8s_app.create_app("x", extensions=["db"])
except flask_k8s_app.MissingExtra as error:
    print(error)
"""
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
    )
    first, second = result.stdout.splitlines()[-2:]
    assert json.loads(first) == {
        "lb": 200,
        "hb": {"status": "ok", "checks": {}, "details": {}},
        "heavy": [],
    }
    assert second == (
        "the database needs flask_sqlalchemy, which is not installed: "
        "pip install 'flask-k8s-app[db]'"
    )
    freeze = subprocess.run(
        [*uv, "pip", "freeze", "--python", str(venv / "bin" / "python")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {line.split("==")[0].split(" @ ")[0].lower() for line in freeze.splitlines()}
    assert "flask" in installed
    assert not installed & {"sqlalchemy", "redis", "ops", "flask-sqlalchemy"}
