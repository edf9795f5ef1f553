"""The charm's plan applied to a real Pebble, gunicorn, Flask app and statsd exporter."""

from __future__ import annotations

import hashlib
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import ops
import pytest

from flask_k8s import _config as config
from flask_k8s import _gunicorn_config as gunicorn
from flask_k8s import _spec as spec
from tests.integration.conftest import (
    MIGRATIONS_LOG,
    get_json,
    service_running,
    wait_until,
)


def test_serves_the_example_app_with_its_settings(flask_workload):
    assert flask_workload.reconcile(token="abc") == "active"

    assert get_json("/token") == {"token": "abc"}
    digest = hashlib.sha256(flask_workload.secret_key.encode()).hexdigest()
    assert get_json("/secret-key-digest") == {"sha256": digest}
    settings = get_json("/config")
    assert settings["PREFERRED_URL_SCHEME"] == "HTTPS"
    assert settings["BASE_URL"] == "http://flask-k8s.local:8000"
    # gunicorn runs as the rock's user, not as root.
    assert get_json("/process")["user"] != 0


def test_json_encoded_options_reach_flask_as_values(flask_workload):
    status = flask_workload.reconcile(
        **{"flask-debug": False, "flask-permanent-session-lifetime": 3600}
    )
    assert status == "active"
    settings = get_json("/config")
    assert settings["DEBUG"] is False
    # Flask reads FLASK_PERMANENT_SESSION_LIFETIME=3600 as an integer number of seconds.
    assert settings["PERMANENT_SESSION_LIFETIME"] == 3600


def test_migration_runs_through_pebble_exec_as_the_rock_user(flask_workload):
    assert flask_workload.reconcile(token="first") == "active"

    runs = MIGRATIONS_LOG.read_text().splitlines()
    assert len(runs) == 1
    assert runs[0].startswith("migrated as _daemon_ with token=first")


def test_config_change_reaches_the_app_after_the_migration(flask_workload):
    assert flask_workload.reconcile(token="first") == "active"
    assert get_json("/token") == {"token": "first"}

    assert flask_workload.reconcile(token="second") == "active"

    wait_until(lambda: get_json("/token") == {"token": "second"}, "the new token")
    runs = MIGRATIONS_LOG.read_text().splitlines()
    assert [run.split(" at ")[0] for run in runs] == [
        "migrated as _daemon_ with token=first",
        "migrated as _daemon_ with token=second",
    ]


def test_failing_migration_keeps_new_settings_from_the_app(flask_workload, app_files):
    assert flask_workload.reconcile(token="old") == "active"
    good_script = (app_files / "migrate.sh").read_text()
    (app_files / "migrate.sh").write_text(
        "echo 'applying 0002' >&2\necho 'relation \"users\" does not exist' >&2\nexit 3\n"
    )

    status = flask_workload.reconcile(token="new")

    assert status == 'blocked: migration failed: relation "users" does not exist'
    assert get_json("/token") == {"token": "old"}

    # Retried on the next event; once it passes, the app gets the new settings.
    (app_files / "migrate.sh").write_text(good_script)
    assert flask_workload.reconcile(token="new") == "active"
    wait_until(lambda: get_json("/token") == {"token": "new"}, "the new token")


def test_failing_first_migration_keeps_the_app_from_starting(flask_workload, app_files):
    (app_files / "migrate.sh").write_text("echo 'database is down' >&2\nexit 1\n")

    assert flask_workload.reconcile(token="x") == "blocked: migration failed: database is down"

    assert not service_running(flask_workload.container, "flask")


def test_reconcile_that_changes_nothing_leaves_gunicorn_alone(flask_workload):
    assert flask_workload.reconcile(token="same", **{"webserver-workers": 2}) == "active"
    before = get_json("/process")
    config_mtime = os.stat(spec.FLASK.gunicorn_config_path).st_mtime_ns
    runs = MIGRATIONS_LOG.read_text()
    changes = len(pebble_changes(flask_workload))

    assert flask_workload.reconcile(token="same", **{"webserver-workers": 2}) == "active"

    assert get_json("/process")["master_pid"] == before["master_pid"]
    assert os.stat(spec.FLASK.gunicorn_config_path).st_mtime_ns == config_mtime
    assert MIGRATIONS_LOG.read_text() == runs
    # No exec, replan, start or stop: Pebble recorded no new change.
    assert (
        len(flask_workload.container.pebble.get_changes(select=ops.pebble.ChangeState.ALL))
        == changes
    )


def pebble_changes(item) -> list[ops.pebble.Change]:
    return item.container.pebble.get_changes(select=ops.pebble.ChangeState.ALL)


def worker_pids(expected: int) -> set[int]:
    """The PIDs of the gunicorn workers answering, once ``expected`` distinct ones answered."""
    pids: set[int] = set()
    deadline = time.monotonic() + 30
    while len(pids) < expected and time.monotonic() < deadline:
        pids.add(get_json("/process")["pid"])
    return pids


def test_gunicorn_only_change_reloads_it_without_a_restart(flask_workload):
    assert flask_workload.reconcile(token="t", **{"webserver-workers": 1}) == "active"
    before = get_json("/process")
    runs = MIGRATIONS_LOG.read_text()

    assert flask_workload.reconcile(token="t", **{"webserver-workers": 3}) == "active"

    # SIGHUP: the same master starts new workers with the new config.
    def reloaded() -> bool:
        now = get_json("/process")
        return now["master_pid"] == before["master_pid"] and now["pid"] != before["pid"]

    wait_until(reloaded, "gunicorn to reload")
    assert get_json("/process")["master_pid"] == before["master_pid"]
    # The old worker serves until the new ones have loaded the app, then leaves.
    wait_until(
        lambda: before["pid"] not in (pids := worker_pids(3)) and len(pids) == 3,
        "three new workers to answer",
    )
    # The environment did not change, so the migration did not run again.
    assert MIGRATIONS_LOG.read_text() == runs


def test_gunicorn_check_failure_blocks_with_its_reason_and_keeps_serving(
    flask_workload, app_files
):
    assert flask_workload.reconcile(token="t") == "active"
    config_before = pathlib.Path(spec.FLASK.gunicorn_config_path).read_text()
    settings_before = pathlib.Path(spec.FLASK.settings_file).read_text()
    (app_files / "app.py").write_text("import flask\nraise RuntimeError('no database URL')\n")

    status = flask_workload.reconcile(token="t2", **{"webserver-workers": 2})

    assert status == "blocked: gunicorn check failed: RuntimeError: no database URL"
    assert get_json("/token") == {"token": "t"}
    assert pathlib.Path(spec.FLASK.gunicorn_config_path).read_text() == config_before
    assert pathlib.Path(spec.FLASK.settings_file).read_text() == settings_before


def test_gevent_without_gevent_in_the_rock_is_blocked(flask_workload):
    status = flask_workload.reconcile(token="t", **{"webserver-worker-class": "gevent"})

    assert status == (
        "blocked: invalid config: webserver-worker-class gevent needs gunicorn[gevent] in the rock"
    )
    assert not service_running(flask_workload.container, "flask")


def test_workers_get_the_environment_and_the_scheduler_runs_once(make_workload):
    # Somewhere the rock's user can write (pytest's tmp_path is private to root).
    out = pathlib.Path(tempfile.mkdtemp(prefix="flask-k8s-services-"))
    out.chmod(0o777)
    script = (
        "import os, sys, time; "
        "open(sys.argv[1], 'w').write(os.environ.get('FLASK_TOKEN', '')); time.sleep(3600)"
    )
    rock_python = "/opt/flask-k8s/rock/bin/python3"
    extra = {
        name: {
            "override": "replace",
            "startup": "enabled",
            "user": "_daemon_",
            "command": f'{rock_python} -c "{script}" {out / name}',
        }
        for name in ("mail-worker", "beat-scheduler")
    }
    item = make_workload(extra)

    assert item.reconcile(token="w") == "active"

    for name in ("mail-worker", "beat-scheduler"):
        path = out / name
        wait_until(lambda path=path: path.exists() and path.read_text() != "", name)
    assert (out / "mail-worker").read_text() == "w"
    assert (out / "beat-scheduler").read_text() == "w"
    assert service_running(item.container, "statsd-exporter")


def test_statsd_exporter_publishes_gunicorn_request_metrics(flask_workload):
    assert flask_workload.reconcile(token="m") == "active"
    for _ in range(5):
        get_json("/token")

    def counted() -> bool:
        with urllib.request.urlopen("http://localhost:9102/metrics", timeout=5) as response:
            text = response.read().decode()
        return 'flask_response_code{status="200"}' in text and "flask_requests" in text

    wait_until(counted, "the exporter to count requests")


@pytest.fixture
def gunicorn_config(tmp_path):
    path = tmp_path / "gunicorn.conf.py"
    workload = spec.WorkloadSpec(port=8765)
    path.write_text(gunicorn.render_config(config.WebserverConfig(workers=1), workload))
    return path


def test_gunicorn_access_and_error_logs_go_to_stdout(rock, app_files, gunicorn_config):
    process = subprocess.Popen(
        [str(rock.python), "-m", "gunicorn", "-c", str(gunicorn_config), "app:app"],
        cwd=app_files,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _get("http://localhost:8765/") == 200, "gunicorn")
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)

    assert "Booting worker" in stdout
    assert '"GET / HTTP/1.1" 200' in stdout
    assert "Booting worker" not in stderr
    assert "GET /" not in stderr


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return response.status
    except OSError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
