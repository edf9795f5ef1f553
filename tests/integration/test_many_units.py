"""Two units on this machine: two real Pebbles, each with its own gunicorn and app copy.

They share what units of one application share: the peer relation's application data (a
dict here, written by the leader as the charm writes it) and a real PostgreSQL database.
"""

from __future__ import annotations

import collections.abc
import concurrent.futures
import hashlib
import json
import pathlib
import threading
import time
import typing
import urllib.request

import pytest

from flask_k8s import _juju_secrets as secrets
from flask_k8s import _migrations as migrations
from flask_k8s import _pebble_apply as workload
from flask_k8s import _spec as spec
from flask_k8s import _status as status
from flask_k8s import local

from .conftest import EXAMPLE_APP, USER, wait_until
from .test_backing_services import postgresql_answer, related

# The units' ports differ here (one machine), so their URL inside the model would too: behind
# an ingress, as in production, both have the same external URL, and so the same settings.
INGRESS = {"FLASK_BASE_URL": "https://app.example.com/"}


def unit_spec(number: int) -> spec.WorkloadSpec:
    """Unit ``number``'s paths and ports: apart from the other unit's on one machine."""
    return spec.WorkloadSpec(
        base_dir=f"/flask/unit{number}",
        app_dir=f"/flask/unit{number}/app",
        port=8100 + number,
        state_dir=f"/var/lib/flask-k8s/unit{number}",
        settings_file=f"/dev/shm/flask-k8s-unit{number}/environment.json",
        statsd_host=f"localhost:{9200 + number}",
        exporter_port=9300 + number,
    )


class Unit:
    """One unit: its Pebble with the rock's layer for its paths, reconciled by the library."""

    def __init__(self, rock: local.Rock, number: int, directory: pathlib.Path, peer: dict):
        self.workload = unit_spec(number)
        self.is_leader = number == 0
        self.peer = peer
        local.install_app(EXAMPLE_APP, self.workload)
        layer = rock.layer()
        flask = layer["services"]["flask"]
        flask["command"] = flask["command"].replace(
            "/flask/gunicorn.conf.py", self.workload.gunicorn_config_path
        )
        exporter = layer["services"]["statsd-exporter"]
        exporter["command"] = (
            exporter["command"].replace("localhost:9125", self.workload.statsd_host)
            + f" --web.listen-address=:{self.workload.exporter_port}"
        )
        self.pebble = local.Pebble(rock, directory, layer)
        self.log = (directory / "pebble.log").open("wb")
        self.pebble.start(self.log)
        self.container = self.pebble.container()

    def reconcile(self, key: str, fallbacks: tuple[str, ...] = (), **values: typing.Any) -> str:
        """The charm's reconcile on this unit; the status it ends in."""
        try:
            state = local.local_state(
                {"flask-preferred-url-scheme": "HTTPS", **values},
                key,
                is_leader=self.is_leader,
                integrations=self.integrations,
                secret_key_fallbacks=fallbacks,
            )
            gate = workload.MigrationGate(
                is_leader=self.is_leader,
                record=migrations.Record.from_json(self.peer.get(migrations.RECORD_FIELD)),
                now=time.time(),
                save=self.save,
            )
            workload.reconcile(self.container, state, self.workload, gate=gate)
        except status.StatusError as error:
            return f"{type(error).__name__.lower()}: {error.message}"
        return "active"

    integrations: collections.abc.Callable[[], typing.Any] | None = None

    def save(self, record: migrations.Record) -> None:
        assert self.is_leader, "only the leader writes the peer relation's application data"
        self.peer[migrations.RECORD_FIELD] = record.to_json()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.workload.port}{path}"

    def get_json(self, path: str, opener: urllib.request.OpenerDirector | None = None) -> dict:
        request = urllib.request.Request(self.url(path))  # noqa: S310 (a local URL)
        with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
            return json.loads(response.read())

    def serves(self, path: str, expected: dict) -> bool:
        try:
            return self.get_json(path) == expected
        except OSError:
            return False

    def close(self) -> None:
        self.pebble.stop()
        self.log.close()


@pytest.fixture
def units(rock, tmp_path) -> collections.abc.Iterator[list[Unit]]:
    peer: dict[str, str] = {}
    started: list[Unit] = []
    try:
        for number in (0, 1):
            directory = tmp_path / f"unit{number}"
            directory.mkdir()
            started.append(Unit(rock, number, directory, peer))
        yield started
    finally:
        for unit in started:
            unit.close()


def _together(units: list[Unit], **kwargs: typing.Any) -> list[str]:
    """Reconcile every unit at the same moment, as Juju may run their hooks."""
    barrier = threading.Barrier(len(units))

    def run(unit: Unit) -> str:
        barrier.wait()
        return unit.reconcile(**kwargs)

    with concurrent.futures.ThreadPoolExecutor(len(units)) as pool:
        return list(pool.map(run, units))


@pytest.mark.usefixtures("database")
def test_the_leader_migrates_once_and_every_unit_serves_the_new_settings(units, postgresql):
    answer = postgresql_answer(postgresql.port)
    for unit in units:
        unit.integrations = lambda: related(answer, INGRESS)
    other = units[1]
    key = secrets.new_key()

    first = _together(units, key=key, token="one")

    assert first[0] == "active"
    assert first[1] in ("active", "waiting: waiting for the leader's migration")
    # Juju runs the other unit's hook again when the leader writes the peer relation.
    assert other.reconcile(key=key, token="one") == "active"
    second = _together(units, key=key, token="two")
    assert second[0] == "active"
    assert other.reconcile(key=key, token="two") == "active"

    runs = postgresql.sql("SELECT token FROM migration_runs ORDER BY id", "flask-k8s")
    assert runs.splitlines() == ["one", "two"]
    assert postgresql.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'notes'") in (
        "",
        USER,
    )
    for unit in units:
        wait_until(lambda unit=unit: unit.serves("/token", {"token": "two"}), "the new token")


@pytest.mark.usefixtures("database")
def test_a_unit_waits_for_the_leaders_migration_with_its_previous_settings(units, postgresql):
    answer = postgresql_answer(postgresql.port)
    for unit in units:
        unit.integrations = lambda: related(answer, INGRESS)
    leader, other = units
    key = secrets.new_key()
    assert leader.reconcile(key=key, token="one") == "active"
    assert other.reconcile(key=key, token="one") == "active"
    wait_until(lambda: other.serves("/token", {"token": "one"}), "the first token")

    status_before_leader = other.reconcile(key=key, token="two")

    assert status_before_leader == "waiting: waiting for the leader's migration"
    assert other.serves("/token", {"token": "one"})
    assert leader.reconcile(key=key, token="two") == "active"
    assert other.reconcile(key=key, token="two") == "active"
    wait_until(lambda: other.serves("/token", {"token": "two"}), "the new token")
    runs = postgresql.sql("SELECT token FROM migration_runs ORDER BY id", "flask-k8s")
    assert runs.splitlines() == ["one", "two"]


def _cookie(unit: Unit, value: str) -> str:
    """A session cookie the app signed, holding ``value``."""
    request = urllib.request.Request(  # noqa: S310 (a local URL)
        unit.url(f"/session?value={value}"), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        header = response.headers["Set-Cookie"]
    return header.split(";", 1)[0]


def _session_value(unit: Unit, cookie: str) -> str | None:
    request = urllib.request.Request(  # noqa: S310 (a local URL)
        unit.url("/session"), headers={"Cookie": cookie}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())["value"]


def test_a_session_survives_a_key_rotation_on_every_unit_until_its_fallback_expires(units):
    old_key, new_key = secrets.new_key(), secrets.new_key()
    for unit in units:
        unit.integrations = lambda: related(INGRESS)
    for unit in units:
        assert unit.reconcile(key=old_key) == "active"
        wait_until(lambda unit=unit: unit.serves("/session", {"value": None}), "the app")
    cookie = _cookie(units[0], "logged-in")
    assert _session_value(units[1], cookie) == "logged-in"

    # rotate-secret-key: the new key, the old one kept as a fallback, on every unit.
    for unit in units:
        assert unit.reconcile(key=new_key, fallbacks=(old_key,)) == "active"
    for unit in units:
        # Rolled over: every worker now signs with the new key...
        wait_until(lambda unit=unit: _new_key_served(unit, new_key), "the new key")
        # ...and still accepts the session signed with the old one.
        assert _session_value(unit, cookie) == "logged-in"

    # The fallback expired: the old key's sessions are refused (the user logs in again).
    for unit in units:
        assert unit.reconcile(key=new_key) == "active"
    for unit in units:
        wait_until(lambda unit=unit: _session_value(unit, cookie) is None, "the old session to go")


def _new_key_served(unit: Unit, key: str) -> bool:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return all(unit.get_json("/secret-key-digest")["sha256"] == digest for _ in range(8))
