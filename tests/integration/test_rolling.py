"""Changes reach the running app without a restart; restarts come up with the current settings.

Real Pebble, gunicorn and the example app, changed through the library as the charm changes
them, under a light load from bench/loadgen.py.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import sys
import time

import pytest

from flask_k8s import _gunicorn_master as gunicorn_master

from .conftest import get_json, wait_until

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import loadgen


def _children(pid: int) -> list[int]:
    """The children of a process; none once it has gone (Pebble reaps a killed master at once)."""
    children: list[int] = []
    try:
        for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            children.extend(int(child) for child in text.split())
    except FileNotFoundError:
        return []
    return children


def _cmdline(pid: int) -> str:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _master(pebble_pid: int) -> int:
    """gunicorn's master: the child of Pebble that runs gunicorn."""
    (master,) = [pid for pid in _children(pebble_pid) if "gunicorn" in _cmdline(pid)]
    return master


def _workers(pebble_pid: int) -> list[int]:
    return _children(_master(pebble_pid))


def _serves_token(value: str) -> bool:
    return all(get_json("/token")["token"] == value for _ in range(8))


def test_an_env_change_reaches_the_app_with_the_same_master_and_no_failed_request(
    flask_workload,
):
    assert flask_workload.reconcile(token="one") == "active"
    wait_until(lambda: _serves_token("one"), "the first settings")
    pebble_pid = flask_workload.pebble.process.pid
    master = _master(pebble_pid)
    workers_before = set(_workers(pebble_pid))

    result = loadgen.run(
        [
            loadgen.Clients(2, path="/token", keep_body=True, pause=0.01),
            loadgen.Clients(2, keepalive=False, path="/token", keep_body=True, pause=0.01),
        ],
        duration=12,
        actions=[(1.0, lambda: flask_workload.reconcile(token="two"), "token two")],
    )

    assert result.actions[0].value == "active", result.actions[0].error
    assert result.failed == 0, result.failures
    assert _master(pebble_pid) == master
    # Every worker was replaced, and the last answers all carry the new value.
    assert not workers_before & set(_workers(pebble_pid))
    last = [body for at, body in result.bodies() if at > result.end - 2]
    assert last
    assert all('"two"' in body for body in last)
    # The old value was served until the new one: never nothing in between.
    assert result.longest_gap(result.start, result.end)[0] < 1.0


def test_a_crashed_master_comes_back_with_the_current_settings(flask_workload):
    # Pebble restarts a crashed service with the definition it last started: the settings
    # must not live there, or the first value would come back.
    assert flask_workload.reconcile(token="one") == "active"
    wait_until(lambda: _serves_token("one"), "the first settings")
    assert flask_workload.reconcile(token="two") == "active"
    wait_until(lambda: _serves_token("two"), "the new settings")
    pebble_pid = flask_workload.pebble.process.pid
    master = _master(pebble_pid)
    workers = _children(master)
    assert workers

    # The workers are listed before the kill: once Pebble has reaped the master, /proc has
    # no record of whose children they were.
    os.kill(master, signal.SIGKILL)
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)

    wait_until(lambda: _master_other_than(pebble_pid, master), "Pebble to restart gunicorn")
    wait_until(lambda: _serves_token("two"), "the app to serve again", timeout=60)


def _master_other_than(pebble_pid: int, old: int) -> bool:
    try:
        return _master(pebble_pid) != old
    except ValueError:
        return False


def test_pebble_restart_comes_up_with_the_current_settings(flask_workload):
    assert flask_workload.reconcile(token="one") == "active"
    assert flask_workload.reconcile(token="two") == "active"
    wait_until(lambda: _serves_token("two"), "the new settings")

    flask_workload.container.restart("flask")

    wait_until(lambda: _serves_token("two"), "the app to serve again", timeout=60)


def test_a_fresh_container_comes_up_with_the_current_settings(make_workload):
    first = make_workload()
    assert first.reconcile(token="one") == "active"
    assert first.reconcile(token="two") == "active"
    first.close()

    # A new container: no layer, no settings file, no records; the charm reconciles.
    second = make_workload()
    assert second.reconcile(token="two") == "active"

    wait_until(lambda: _serves_token("two"), "the app in the new container", timeout=60)


def test_a_removed_variable_is_gone_from_the_app(flask_workload):
    assert flask_workload.reconcile(token="one") == "active"
    wait_until(lambda: _serves_token("one"), "the first settings")

    assert flask_workload.reconcile() == "active"

    wait_until(lambda: _serves_token(None), "the token to be unset")  # type: ignore[arg-type]


@pytest.mark.parametrize("cpus", [1, None])
def test_the_default_worker_count_follows_the_cpus_the_container_may_use(flask_workload, cpus):
    pebble_pid = flask_workload.pebble.process.pid
    if cpus is not None:
        # What the test controls: the affinity mask Pebble, and so gunicorn, inherits (every
        # thread's: Go starts a service from any of them).
        allowed = set(sorted(os.sched_getaffinity(0))[:cpus])
        for task in pathlib.Path(f"/proc/{pebble_pid}/task").iterdir():
            os.sched_setaffinity(int(task.name), allowed)
        usable = min(float(cpus), gunicorn_master.cpu_limit())
    else:
        usable = gunicorn_master.cpu_limit()
    expected = gunicorn_master.default_workers(usable, gunicorn_master.memory_limit())

    assert flask_workload.reconcile(token="one") == "active"
    wait_until(lambda: _serves_token("one"), "the app")

    wait_until(lambda: len(_workers(pebble_pid)) == expected, f"{expected} workers")
    if cpus == 1:
        assert expected == 2
    time.sleep(1)
    assert len(_workers(pebble_pid)) == expected


def test_a_change_during_a_rolling_reload_fails_no_request(flask_workload):
    # The second reload stops the worker the first one is still booting: it must take no
    # serving worker down with it.
    assert flask_workload.reconcile(token="one") == "active"
    wait_until(lambda: _serves_token("one"), "the first settings")

    result = loadgen.run(
        [
            loadgen.Clients(3, path="/token", keep_body=True, pause=0.005),
            loadgen.Clients(3, keepalive=False, path="/token", keep_body=True, pause=0.005),
        ],
        duration=14,
        # One hook after the other, as Juju runs them: the second starts while the first
        # one's reload is replacing workers.
        actions=[(1.0, lambda: [flask_workload.reconcile(token=t) for t in ("two", "three")])],
    )

    assert result.actions[0].value == ["active", "active"], result.actions[0].error
    assert result.failed == 0, result.failures
    last = [body for at, body in result.bodies() if at > result.end - 2]
    assert last
    assert all('"three"' in body for body in last)
