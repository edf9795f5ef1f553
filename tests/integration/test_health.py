"""Pebble's checks, run by a real Pebble against the real app, as the charm reports them."""

from __future__ import annotations

import signal
import subprocess
import time

import ops

import flask_k8s
from flask_k8s import _juju_secrets as secrets
from flask_k8s import _pebble_apply as workload
from flask_k8s import _spec as spec
from flask_k8s import local
from tests.integration.conftest import get_json, wait_until

# Checks every 2s, down after 2 failures: the real checks, fast enough for a test.
FAST = flask_k8s.replace(spec.FLASK, check_period=2, check_threshold=2)


def reconcile(daemon: local.Pebble, **values) -> None:
    charm_state = local.local_state(
        {"flask-preferred-url-scheme": "HTTPS", **values}, secrets.new_key()
    )
    workload.reconcile(daemon.container(), charm_state, FAST)


def gunicorn(sig: signal.Signals) -> None:
    subprocess.run(
        ["pkill", f"-{sig.name}", "-f", "gunicorn -c /flask/gunicorn.conf.py"], check=True
    )


def test_a_healthy_app_passes_every_check(pebble):
    reconcile(pebble, token="t")
    get_json("/token")

    container = pebble.container()
    wait_until(
        lambda: all(info.successes for info in container.get_checks().values()),
        "every check to pass once",
    )
    assert workload.health(container, FAST) is None


def test_readiness_fails_when_the_app_stops_answering_and_recovers(pebble):
    reconcile(pebble, token="t")
    get_json("/token")
    container = pebble.container()

    gunicorn(signal.SIGSTOP)
    try:
        wait_until(lambda: workload.health(container, FAST) is not None, "the check to fail")
        message = workload.health(container, FAST)
        assert message is not None
        assert message.startswith("app not ready: readiness check failing for ")
    finally:
        gunicorn(signal.SIGCONT)

    wait_until(lambda: workload.health(container, FAST) is None, "the check to recover")


def test_readiness_requests_the_configured_path(pebble):
    reconcile(pebble, token="t", **{"webserver-readiness-path": "/status/503"})
    container = pebble.container()

    wait_until(lambda: workload.health(container, FAST) is not None, "the check to fail")

    # Readiness only reports: gunicorn was not restarted and still serves.
    assert get_json("/token") == {"token": "t"}
    reconcile(pebble, token="t", **{"webserver-readiness-path": "/"})
    wait_until(lambda: workload.health(container, FAST) is None, "the check to recover")


PLAIN_APP = """\
import flask

app = flask.Flask(__name__)


@app.get("/")
def index():
    return "plain"
"""


def test_an_app_without_flask_k8s_app_in_a_rock_that_has_it_is_named_not_restarted(
    pebble, tmp_path
):
    # The rock has the package (auto picks Dockerflow checks); the app does not use it, so
    # /__heartbeat__ is a 404. Liveness is a TCP connect: nothing restarts gunicorn, and the
    # status says what to set.
    app_dir = tmp_path / "plain-app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(PLAIN_APP)
    local.install_app(app_dir)
    reconcile(pebble, token="t")
    container = pebble.container()
    assert container.get_plan().checks["flask-ready"].http == {
        "url": "http://localhost:8000/__heartbeat__"
    }
    wait_until(lambda: workload.health(container, FAST) is not None, "readiness to fail")
    pid = int(
        subprocess.run(
            ["pgrep", "-o", "-f", "gunicorn -c /flask/gunicorn.conf.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[0]
    )

    # Longer than liveness took to restart the app when it was /__lbheartbeat__ (2 x 2s).
    time.sleep(3 * FAST.check_period * FAST.check_threshold)

    message = workload.health(container, FAST)
    assert message is not None
    assert "the app answers 404" in message
    assert "webserver-health-checks=basic" in message
    assert container.get_checks()["flask-alive"].status == ops.pebble.CheckStatus.UP
    still = subprocess.run(
        ["pgrep", "-o", "-f", "gunicorn -c /flask/gunicorn.conf.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert int(still) == pid
