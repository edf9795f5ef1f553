"""gunicorn_master: what runs in gunicorn's master in the workload container.

The CPU and memory limits from fake cgroup trees, the default sizing, the settings file and
its application to the master's environment (and to gunicorn's settings that follow it), the
rolling reload against a stand-in Arbiter, and then the real thing: a gunicorn master started
with the config ``render_config`` writes, for the gunicorn of this environment and for the
rock's (23), changing its settings under a light load.
"""

from __future__ import annotations

import collections.abc
import contextlib
import dataclasses
import hashlib
import http.client
import itertools
import json
import math
import os
import pathlib
import posixpath
import signal
import socket
import subprocess
import sys
import time
import types
import typing

import pytest

from flask_k8s import _config as config
from flask_k8s import _gunicorn_config as gunicorn
from flask_k8s import _gunicorn_master as gunicorn_master
from flask_k8s import _spec as spec
from flask_k8s import _workload_plan as plan
from tests.unit import fake_gunicorn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import loadgen

AFFINITY = len(os.sched_getaffinity(0))
MIB = 2**20


# --- CPU and memory limits ------------------------------------------------------------------


def fake_cgroups(
    tmp_path: pathlib.Path, proc_cgroup: str | bytes, files: dict[str, str | bytes]
) -> tuple[str, str]:
    """A cgroup mount and a /proc/self holding ``files`` and ``proc_cgroup``: their paths."""
    root = tmp_path / "sys-fs-cgroup"
    proc_self = tmp_path / "proc-self"
    root.mkdir()
    proc_self.mkdir()
    for name, content in files.items():
        assert not name.startswith("/")
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    cgroup_file = proc_self / "cgroup"
    if isinstance(proc_cgroup, bytes):
        cgroup_file.write_bytes(proc_cgroup)
    else:
        cgroup_file.write_text(proc_cgroup)
    return str(root), str(proc_self)


def cpus(tmp_path: pathlib.Path, proc_cgroup: str | bytes, files: dict[str, str | bytes]):
    return gunicorn_master.cpu_limit(*fake_cgroups(tmp_path, proc_cgroup, files))


def memory(tmp_path: pathlib.Path, proc_cgroup: str | bytes, files: dict[str, str | bytes]):
    return gunicorn_master.memory_limit(*fake_cgroups(tmp_path, proc_cgroup, files))


V2 = "0::/kubepods/pod1/ctr\n"
V2_GROUP = "kubepods/pod1/ctr"
V1 = "5:memory:/kubepods/pod1/ctr\n3:cpu,cpuacct:/kubepods/pod1/ctr\n1:name=systemd:/\n"


def test_without_a_cpu_quota_the_affinity_mask_is_the_limit(tmp_path):
    assert cpus(tmp_path, V2, {f"{V2_GROUP}/cpu.max": "max 100000"}) == AFFINITY


def test_a_v2_quota_is_cpus_per_period(tmp_path):
    limit = cpus(tmp_path, V2, {f"{V2_GROUP}/cpu.max": "150000 100000"})

    assert limit == min(1.5, AFFINITY)


@pytest.mark.parametrize(
    ("quotas", "expected"),
    [
        ({V2_GROUP: "max 100000", "kubepods/pod1": "50000 100000", "kubepods": "max"}, 0.5),
        ({V2_GROUP: "25000 100000", "kubepods/pod1": "50000 100000"}, 0.25),
        ({V2_GROUP: "max 100000", "": "20000 100000"}, 0.2),
    ],
    ids=["parent", "own group", "mount root"],
)
def test_the_tightest_quota_on_the_way_up_to_the_root_wins(tmp_path, quotas, expected):
    files: dict[str, str | bytes] = {
        posixpath.join(group, "cpu.max"): quota for group, quota in quotas.items()
    }

    assert cpus(tmp_path, V2, files) == expected


@pytest.mark.parametrize("mount", ["cpu,cpuacct", "cpu"])
def test_a_v1_quota_is_cfs_quota_per_period(tmp_path, mount):
    proc_cgroup = f"3:{mount}:/kubepods/pod1/ctr\n"
    files: dict[str, str | bytes] = {
        f"{mount}/kubepods/pod1/ctr/cpu.cfs_quota_us": "50000",
        f"{mount}/kubepods/pod1/ctr/cpu.cfs_period_us": "100000",
    }

    assert cpus(tmp_path, proc_cgroup, files) == 0.5


def test_a_v1_quota_of_minus_one_is_no_quota(tmp_path):
    files: dict[str, str | bytes] = {
        "cpu,cpuacct/kubepods/pod1/ctr/cpu.cfs_quota_us": "-1",
        "cpu,cpuacct/kubepods/pod1/ctr/cpu.cfs_period_us": "100000",
    }

    assert cpus(tmp_path, V1, files) == AFFINITY


def test_a_v1_group_not_under_the_mount_reads_the_mounts_own_files(tmp_path):
    # Without a cgroup namespace /proc/self/cgroup names the host's path, while the
    # container sees its own group at the mount's root.
    files: dict[str, str | bytes] = {
        "cpu,cpuacct/cpu.cfs_quota_us": "50000",
        "cpu,cpuacct/cpu.cfs_period_us": "100000",
        "memory/memory.limit_in_bytes": str(256 * MIB),
    }
    root, proc_self = fake_cgroups(tmp_path, V1, files)

    assert gunicorn_master.cpu_limit(root, proc_self) == 0.5
    assert gunicorn_master.memory_limit(root, proc_self) == 256 * MIB


@pytest.mark.parametrize(
    ("proc_cgroup", "files"),
    [
        (V2, {f"{V2_GROUP}/cpu.max": "100000000 100000"}),
        (
            V1,
            {
                "cpu,cpuacct/cpu.cfs_quota_us": "100000000",
                "cpu,cpuacct/cpu.cfs_period_us": "100000",
            },
        ),
    ],
    ids=["v2", "v1"],
)
def test_a_quota_above_the_affinity_mask_gives_the_affinity_count(tmp_path, proc_cgroup, files):
    assert cpus(tmp_path, proc_cgroup, files) == AFFINITY


GARBAGE: list[str | bytes] = [
    "",
    "max",
    "abc def",
    "150000 0",
    "1 2 3",
    "-50000 100000",
    "0 100000",
    "\x00\x00",
    b"\xff\xfe150000 100000",
    "\u00b2\u00b3",
]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_in_the_cpu_files_is_no_quota(tmp_path, garbage):
    files: dict[str, str | bytes] = {
        f"{V2_GROUP}/cpu.max": garbage,
        "cpu,cpuacct/cpu.cfs_quota_us": garbage,
        "cpu,cpuacct/cpu.cfs_period_us": garbage,
        "cpu/cpu.cfs_quota_us": "50000",
        "cpu/cpu.cfs_period_us": garbage,
    }

    assert cpus(tmp_path, V2 + V1, files) == AFFINITY


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_in_the_memory_files_is_no_limit(tmp_path, garbage):
    files: dict[str, str | bytes] = {
        f"{V2_GROUP}/memory.max": garbage,
        "memory/memory.limit_in_bytes": garbage,
    }

    assert memory(tmp_path, V2 + V1, files) is None


@pytest.mark.parametrize(
    "proc_cgroup",
    ["", "nonsense\n::\n0::\n", "0:/x\n", b"\xff\xfe0::/\n", "3:cpu:\n5:memory:\n"],
)
def test_a_garbage_proc_self_cgroup_is_no_limit(tmp_path, proc_cgroup):
    root, proc_self = fake_cgroups(tmp_path, proc_cgroup, {})

    assert gunicorn_master.cpu_limit(root, proc_self) == AFFINITY
    assert gunicorn_master.memory_limit(root, proc_self) is None


def test_missing_or_unreadable_cgroup_files_are_no_limit(tmp_path):
    root, proc_self = fake_cgroups(tmp_path, V2 + V1, {})
    # A directory where a file should be.
    os.makedirs(os.path.join(root, V2_GROUP, "cpu.max"))
    os.makedirs(os.path.join(root, V2_GROUP, "memory.max"))

    assert gunicorn_master.cpu_limit(root, proc_self) == AFFINITY
    assert gunicorn_master.memory_limit(root, proc_self) is None
    assert gunicorn_master.cpu_limit(root, str(tmp_path / "no-proc")) == AFFINITY
    assert gunicorn_master.memory_limit(str(tmp_path / "no-cgroup"), proc_self) is None


def test_a_v2_memory_max_is_the_limit(tmp_path):
    assert memory(tmp_path, V2, {f"{V2_GROUP}/memory.max": str(512 * MIB)}) == 512 * MIB


def test_a_v2_memory_max_of_max_is_no_limit(tmp_path):
    assert memory(tmp_path, V2, {f"{V2_GROUP}/memory.max": "max"}) is None


def test_a_parents_tighter_memory_limit_wins(tmp_path):
    files: dict[str, str | bytes] = {
        f"{V2_GROUP}/memory.max": "max",
        "kubepods/pod1/memory.max": str(256 * MIB),
        "kubepods/memory.max": str(1024 * MIB),
    }

    assert memory(tmp_path, V2, files) == 256 * MIB


def test_a_v1_memory_limit_is_the_limit(tmp_path):
    files: dict[str, str | bytes] = {
        "memory/kubepods/pod1/ctr/memory.limit_in_bytes": str(300 * MIB)
    }

    assert memory(tmp_path, V1, files) == 300 * MIB


def test_v1s_huge_memory_limit_is_no_limit(tmp_path):
    files: dict[str, str | bytes] = {"memory/memory.limit_in_bytes": "9223372036854771712"}

    assert memory(tmp_path, V1, files) is None


# --- Default sizing -------------------------------------------------------------------------

WORKER = gunicorn_master.WORKER_MEMORY
MASTER = gunicorn_master.MASTER_MEMORY


@pytest.mark.parametrize(
    ("cpu_count", "memory_bytes", "expected"),
    [
        (1, None, 2),
        (1.5, None, 3),
        (2, None, 3),
        (0.25, None, 2),
        (4, MASTER + 2 * WORKER, 2),
        (4, MASTER + 2 * WORKER - 1, 1),
        (4, MASTER + 10 * WORKER, 5),
        (4, 1, 1),
        (4, 0, 1),
        (0, None, 1),
    ],
)
def test_default_workers_one_per_cpu_plus_one_within_memory_never_below_one(
    cpu_count, memory_bytes, expected
):
    assert gunicorn_master.default_workers(cpu_count, memory_bytes) == expected


def limits_whatever_the_layout(
    tmp_path: pathlib.Path, quota: float | None, memory_bytes: int | None
) -> str:
    """A cgroup root with these limits for any /proc/self/cgroup (sizing reads the real one).

    The files sit at the v2 root and at the v1 mounts' roots: every walk up ends there.
    """
    root = tmp_path / "cgroup"
    quota_us = None if quota is None else str(round(quota * 100000))
    files = {
        "cpu.max": f"{quota_us or 'max'} 100000",
        "memory.max": str(memory_bytes or "max"),
        "cpu,cpuacct/cpu.cfs_quota_us": quota_us or "-1",
        "cpu,cpuacct/cpu.cfs_period_us": "100000",
        "memory/memory.limit_in_bytes": str(memory_bytes or 2**63 - 4096),
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return str(root)


def test_set_workers_and_threads_win(tmp_path):
    root = limits_whatever_the_layout(tmp_path, 0.5, 128 * MIB)

    workers, threads, _ = gunicorn_master.sizing("gthread", 7, 3, cgroup_root=root)

    assert (workers, threads) == (7, 3)


def test_unset_workers_follow_the_cpus(tmp_path):
    root = limits_whatever_the_layout(tmp_path, 0.5, None)

    workers, _, _ = gunicorn_master.sizing("sync", cgroup_root=root)

    assert workers == 2


def test_unset_workers_fit_the_memory(tmp_path):
    root = limits_whatever_the_layout(tmp_path, None, MASTER + WORKER)

    workers, _, _ = gunicorn_master.sizing("sync", cgroup_root=root)

    assert workers == 1


@pytest.mark.parametrize(
    ("worker_class", "threads", "expected"),
    [
        ("sync", None, gunicorn_master.DEFAULT_THREADS),
        ("gthread", None, gunicorn_master.DEFAULT_THREADS),
        ("gevent", None, None),
        ("gevent", 4, 4),
        ("sync", 1, 1),
    ],
)
def test_threads_default_for_sync_and_gthread_only(tmp_path, worker_class, threads, expected):
    root = limits_whatever_the_layout(tmp_path, 0.5, None)

    _, got, _ = gunicorn_master.sizing(worker_class, threads=threads, cgroup_root=root)

    assert got == expected


@pytest.mark.parametrize(
    ("quota", "memory_bytes", "why"),
    [
        (0.5, 512 * MIB, "0.5 CPUs, 512 MiB"),
        (0.25, None, "0.25 CPUs, no memory limit"),
    ],
)
def test_why_names_the_cpus_and_the_memory(tmp_path, quota, memory_bytes, why):
    root = limits_whatever_the_layout(tmp_path, quota, memory_bytes)

    assert gunicorn_master.sizing("sync", cgroup_root=root)[2] == why


# --- The settings file ----------------------------------------------------------------------


FakeLog = fake_gunicorn.FakeLog

NAMES = ("FLASK_K8S_TEST_A", "FLASK_K8S_TEST_B", "FLASK_K8S_TEST_SHADOW")
A, B, SHADOW = NAMES


@pytest.fixture
def environ(monkeypatch) -> collections.abc.Iterator[collections.abc.MutableMapping[str, str]]:
    """os.environ, with the variables these tests set put back as they were afterwards."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    yield os.environ


@pytest.fixture
def server() -> types.SimpleNamespace:
    """The master as apply_settings sees it: something to keep state on, and a log."""
    return types.SimpleNamespace(log=FakeLog())


def replace(path: pathlib.Path, text: str) -> None:
    """Replace a file whole, as Pebble's push does."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def write(path: pathlib.Path, environment: dict[str, str]) -> None:
    """The charm's settings file with this environment."""
    replace(path, plan.encode_settings(environment, "digest"))


def ours(environment: collections.abc.Mapping[str, str]) -> dict[str, str]:
    return {name: environment[name] for name in NAMES if name in environment}


def test_encoded_settings_are_versioned_json_of_the_environment_and_config():
    text = plan.encode_settings({"B": "2", "A": "1"}, "abc123")

    assert json.loads(text) == {
        "version": 1,
        "environment": {"A": "1", "B": "2"},
        "config": "abc123",
    }
    # The charm compares the texts: the same settings are the same text.
    assert text == plan.encode_settings({"A": "1", "B": "2"}, "abc123")


def test_the_charm_writes_the_settings_version_the_master_reads(tmp_path):
    assert plan.SETTINGS_VERSION == gunicorn_master.SETTINGS_VERSION
    path = tmp_path / "environment.json"
    write(path, {"FLASK_TOKEN": "t"})
    assert gunicorn_master.read_settings(str(path))[0] == {"FLASK_TOKEN": "t"}


def test_read_settings_gives_back_the_environment_and_the_files_identity(tmp_path):
    path = tmp_path / "environment.json"
    write(path, {"A": "1", "EMPTY": ""})

    environment, identity = gunicorn_master.read_settings(str(path))

    assert environment == {"A": "1", "EMPTY": ""}
    assert identity == gunicorn_master.file_identity(str(path))
    assert identity is not None


def test_no_settings_file_reads_as_none(tmp_path):
    path = str(tmp_path / "environment.json")

    assert gunicorn_master.read_settings(path) == (None, None)
    assert gunicorn_master.file_identity(path) is None


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "",
        "[]",
        '{"version": 1}',
        '{"environment": ["A"]}',
        '{"environment": {"A": 1}}',
        '{"environment": {"A": null}}',
        b'{"environment": {"A": "\xff"}}',
    ],
)
def test_a_corrupt_settings_file_raises_value_error(tmp_path, content):
    path = tmp_path / "environment.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)

    with pytest.raises(ValueError):
        gunicorn_master.read_settings(str(path))


def test_applying_settings_sets_the_variables(tmp_path, environ, server):
    path = tmp_path / "environment.json"
    write(path, {A: "1", B: "two words"})

    assert gunicorn_master.apply_settings(server, str(path)) == 2

    assert ours(environ) == {A: "1", B: "two words"}


def test_a_variable_dropped_from_the_next_file_is_removed(tmp_path, environ, server):
    path = tmp_path / "environment.json"
    write(path, {A: "1", B: "2"})
    gunicorn_master.apply_settings(server, str(path))
    write(path, {A: "changed"})

    assert gunicorn_master.apply_settings(server, str(path)) == 1

    assert ours(environ) == {A: "changed"}


def test_a_dropped_variable_that_shadowed_one_gets_the_masters_value_back(
    tmp_path, environ, server
):
    environ[SHADOW] = "the master's own"
    path = tmp_path / "environment.json"
    write(path, {SHADOW: "from the settings"})
    gunicorn_master.apply_settings(server, str(path))
    assert environ[SHADOW] == "from the settings"
    write(path, {A: "1"})

    gunicorn_master.apply_settings(server, str(path))

    assert ours(environ) == {A: "1", SHADOW: "the master's own"}


def test_no_settings_file_changes_nothing(tmp_path, environ, server):
    environ[SHADOW] = "kept"
    path = tmp_path / "environment.json"

    assert gunicorn_master.apply_settings(server, str(path)) is None
    assert ours(environ) == {SHADOW: "kept"}
    write(path, {A: "1"})
    gunicorn_master.apply_settings(server, str(path))
    path.unlink()

    assert gunicorn_master.apply_settings(server, str(path)) is None

    assert ours(environ) == {A: "1", SHADOW: "kept"}
    assert server.log.levels("error") == []


def test_a_corrupt_file_is_logged_and_keeps_the_environment(tmp_path, environ, server):
    path = tmp_path / "environment.json"
    write(path, {A: "1", B: "2"})
    gunicorn_master.apply_settings(server, str(path))
    path.write_text('{"environment": {"A": ')

    assert gunicorn_master.apply_settings(server, str(path)) is None

    assert ours(environ) == {A: "1", B: "2"}
    (error,) = server.log.levels("error")
    assert error.startswith(f"the app's settings are unchanged: cannot read {path}: ")


def test_a_corrupt_file_counts_as_seen_so_it_triggers_no_reload_loop(tmp_path, environ, server):
    path = tmp_path / "environment.json"
    write(path, {A: "1"})
    gunicorn_master.apply_settings(server, str(path))
    path.write_text("garbage")

    gunicorn_master.apply_settings(server, str(path))

    assert server._flask_k8s_settings["seen"] == gunicorn_master.file_identity(str(path))
    assert server._flask_k8s_settings["seen"] is not None


def test_the_file_seen_is_the_one_applied(tmp_path, environ, server):
    path = tmp_path / "environment.json"
    write(path, {A: "1"})

    gunicorn_master.apply_settings(server, str(path))

    assert server._flask_k8s_settings["seen"] == gunicorn_master.file_identity(str(path))
    write(path, {A: "2"})
    assert server._flask_k8s_settings["seen"] != gunicorn_master.file_identity(str(path))


@pytest.mark.parametrize(
    "environment", [{A: "bad\x00value"}, {"FLASK_K8S_TEST=B": "1"}], ids=["nul", "equals"]
)
def test_settings_the_os_refuses_are_logged_and_keep_the_environment(
    tmp_path, environ, server, environment
):
    path = tmp_path / "environment.json"
    write(path, {A: "1", B: "2"})
    gunicorn_master.apply_settings(server, str(path))
    write(path, environment)

    assert gunicorn_master.apply_settings(server, str(path)) is None

    assert ours(environ) == {A: "1", B: "2"}
    assert len(server.log.levels("error")) == 1


# --- gunicorn settings that follow the environment ------------------------------------------


def test_forwarded_allow_ips_follows_the_applied_settings(monkeypatch, server):
    from gunicorn import config as gunicorn_config

    server.cfg = gunicorn_config.Config()
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.1.0.2,10.1.0.3")

    gunicorn_master.follow_environment(server)
    assert server.cfg.forwarded_allow_ips == ["10.1.0.2", "10.1.0.3"]
    monkeypatch.delenv("FORWARDED_ALLOW_IPS")
    gunicorn_master.follow_environment(server)
    assert server.cfg.forwarded_allow_ips == ["127.0.0.1", "::1"]


def test_a_value_gunicorn_refuses_is_logged_and_the_master_keeps_running(monkeypatch, server):
    from gunicorn import config as gunicorn_config

    server.cfg = gunicorn_config.Config()
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "not an address")

    gunicorn_master.follow_environment(server)

    assert server.cfg.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert len(server.log.levels("error")) == 1


# --- The rolling reload, against a stand-in Arbiter -----------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class FakeArbiter:
    """What the rolling reload uses of gunicorn's Arbiter; workers are records, not processes."""

    def __init__(self, workers: int, keepalive: int = 2) -> None:
        self.cfg = types.SimpleNamespace(
            workers=workers, keepalive=keepalive, on_reload=lambda server: None
        )
        self.app = types.SimpleNamespace(reload=lambda: None)
        self.log = FakeLog()
        self.WORKERS: dict[int, types.SimpleNamespace] = {}
        self.worker_age = 0
        self.num_workers = workers
        self.sent: list[tuple[int, int]] = []

    def setup(self, app: object) -> None:
        self.num_workers = self.cfg.workers

    def spawn_worker(self) -> int:
        self.worker_age += 1
        pid = 100 + self.worker_age
        self.WORKERS[pid] = types.SimpleNamespace(age=self.worker_age)
        return pid

    def kill_worker(self, pid: int, sig: int) -> None:
        self.sent.append((pid, sig))

    def manage_workers(self) -> None:
        pass

    def drains(self) -> list[int]:
        return [pid for pid, sig in self.sent if sig == gunicorn_master.READY_SIGNAL]

    def terms(self) -> list[int]:
        return [pid for pid, sig in self.sent if sig == signal.SIGTERM]


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """gunicorn_master's clock (its ``time`` module), advanced by the test."""
    fake = FakeClock()
    monkeypatch.setattr(gunicorn_master, "time", fake)
    return fake


@pytest.fixture
def rolls() -> collections.abc.Iterator[list[typing.Any]]:
    """The rolling-reload states made by a test; their pipes are closed afterwards."""
    made: list[typing.Any] = []
    yield made
    for roll in made:
        os.close(roll.ready_read)
        os.close(roll.ready_write)


def started(arbiter: FakeArbiter, rolls: list[typing.Any]) -> typing.Any:
    """The Arbiter's workers forked and ready; the state the rolling reload keeps on it."""
    roll = gunicorn_master._Roll(arbiter.manage_workers)
    rolls.append(roll)
    for _ in range(arbiter.cfg.workers):
        report_ready(roll, arbiter.spawn_worker())
    return roll


def report_ready(roll: typing.Any, pid: int) -> None:
    """What worker_ready does in a worker that loaded the app: its pid down the pipe."""
    os.write(roll.ready_write, f"{pid}\n".encode())


def test_a_reload_forks_one_new_worker_and_drains_nothing_yet(clock, rolls):
    arbiter = FakeArbiter(workers=2)
    roll = started(arbiter, rolls)

    gunicorn_master.rolling_reload(arbiter, roll)
    gunicorn_master.advance(arbiter, roll)

    assert sorted(arbiter.WORKERS) == [101, 102, 103]
    assert arbiter.sent == []
    assert arbiter.num_workers == 3


def test_each_ready_new_worker_drains_the_oldest_then_sigterm_after_keepalive(clock, rolls):
    arbiter = FakeArbiter(workers=2, keepalive=2)
    roll = started(arbiter, rolls)
    gunicorn_master.rolling_reload(arbiter, roll)

    report_ready(roll, 103)
    gunicorn_master.advance(arbiter, roll)
    assert arbiter.drains() == [101]
    assert 104 in arbiter.WORKERS
    report_ready(roll, 104)
    gunicorn_master.advance(arbiter, roll)
    assert arbiter.drains() == [101, 102]

    clock.now += 2 + gunicorn_master.DRAIN_MARGIN - 0.01
    gunicorn_master.advance(arbiter, roll)
    assert arbiter.terms() == []
    clock.now += 0.01
    gunicorn_master.advance(arbiter, roll)
    assert arbiter.terms() == [101, 102]
    assert arbiter.num_workers == 2
    assert ("info", "rolling reload: done, 2 workers") in arbiter.log.lines


def test_a_second_reload_while_a_new_worker_boots_drains_nothing_yet(clock, rolls):
    arbiter = FakeArbiter(workers=1)
    roll = started(arbiter, rolls)  # 101 serves
    gunicorn_master.rolling_reload(arbiter, roll)  # forks 102, which loads the app...

    gunicorn_master.rolling_reload(arbiter, roll)  # ...when a second reload comes

    assert arbiter.drains() == []


def _stopped_by_gunicorns_own_loop(arbiter: FakeArbiter) -> list[int]:
    """What gunicorn's manage_workers would SIGTERM: the oldest workers beyond the count."""
    by_age = sorted(arbiter.WORKERS, key=lambda pid: arbiter.WORKERS[pid].age)
    return by_age[: max(0, len(by_age) - arbiter.num_workers)]


def test_a_booting_worker_stopped_by_a_second_reload_takes_no_serving_one_with_it(clock, rolls):
    arbiter = FakeArbiter(workers=1)
    roll = started(arbiter, rolls)  # 101 serves
    gunicorn_master.rolling_reload(arbiter, roll)  # forks 102, which loads the app...

    gunicorn_master.rolling_reload(arbiter, roll)  # ...and is stopped by a second reload

    assert arbiter.terms() == [102]
    # 102 is still a child until it exits: counted, so gunicorn does not stop 101 for it.
    assert _stopped_by_gunicorns_own_loop(arbiter) == []


def test_only_a_worker_that_loaded_the_app_is_sent_the_drain_signal(clock, rolls):
    arbiter = FakeArbiter(workers=1)
    roll = started(arbiter, rolls)  # 101 serves
    gunicorn_master.rolling_reload(arbiter, roll)  # forks 102
    gunicorn_master.rolling_reload(arbiter, roll)  # 102 is old now, and forks 103
    report_ready(roll, 103)  # 103 loaded the app before 102 did

    gunicorn_master.advance(arbiter, roll)

    ready = {101, 103}
    assert set(arbiter.drains()) <= ready


# --- The real thing: a gunicorn master with the rendered config ------------------------------

VENV_PYTHON = sys.executable
ROCK_PYTHON = "/opt/flask-k8s/rock/bin/python3"

GUNICORNS = [
    pytest.param(VENV_PYTHON, id="venv-gunicorn"),
    pytest.param(ROCK_PYTHON, id="rock-gunicorn"),
]

# Slow to import, as a real app: a worker that loads it cannot answer for that long.
APP = """
import os
import time

import flask

time.sleep(0.5)
TOKEN = os.environ.get("FLASK_TOKEN", "-")

app = flask.Flask(__name__)


@app.route("/")
def index():
    return f"{os.getpid()} {os.getppid()} {TOKEN}"
"""


@dataclasses.dataclass(frozen=True)
class Answer:
    """Who answered (a worker and its master) and the token it read at import."""

    pid: int
    master: int
    token: str

    @classmethod
    def parse(cls, body: str) -> Answer:
        pid, master, token = body.split()
        return cls(int(pid), int(master), token)


def _stat(pid: str) -> list[str] | None:
    """state, ppid, pgrp, session, ... of a process; None if it is gone."""
    try:
        text = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _processes(field: int, value: int) -> frozenset[int]:
    """The live (not zombie) processes whose stat ``field`` is ``value``."""
    found = set()
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(entry.name)
            if stat is not None and stat[0] != "Z" and int(stat[field]) == value:
                found.add(int(entry.name))
    return frozenset(found)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Master:
    """A gunicorn master run as the rock's service runs it, with the config the charm renders.

    It listens on 127.0.0.1 only (``--bind`` on the command line: render_config's 0.0.0.0 is
    for the pod), sends its statsd lines to a socket of the test that nobody reads, and keeps
    gunicorn's control socket (gunicorn 25 and later) in its own home directory.
    """

    def __init__(self, python: str, directory: pathlib.Path) -> None:
        self.python = python
        self.directory = directory
        self.app_dir = directory / "app"
        self.app_dir.mkdir(parents=True)
        (self.app_dir / "app.py").write_text(APP)
        self.home = directory / "home"
        self.home.mkdir()
        self.settings_file = directory / "environment.json"
        self.config_file = directory / "gunicorn.conf.py"
        self.log_file = directory / "gunicorn.log"
        self.port = _free_port()
        self.statsd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.statsd.bind(("127.0.0.1", 0))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def write_config(self, workers: int, keepalive: int = 2) -> None:
        webserver = config.WebserverConfig(workers=workers, threads=2, keepalive=keepalive)
        workload = spec.WorkloadSpec(
            port=self.port,
            app_dir=str(self.app_dir),
            settings_file=str(self.settings_file),
            statsd_host=f"127.0.0.1:{self.statsd.getsockname()[1]}",
        )
        replace(self.config_file, gunicorn.render_config(webserver, workload))

    def write_settings(self, token: str) -> None:
        """The charm's settings file: the environment, and the digest of the config file."""
        digest = hashlib.sha256(self.config_file.read_bytes()).hexdigest()
        replace(
            self.settings_file,
            plan.encode_settings({"FLASK_TOKEN": token}, digest),
        )

    def start(self) -> None:
        command = [
            *(self.python, "-m", "gunicorn", "-c", str(self.config_file)),
            *("--bind", f"127.0.0.1:{self.port}", "app:app", "-k", "sync"),
        ]
        environment = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.home),
            "TMPDIR": str(self.home),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.app_dir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def workers(self) -> frozenset[int]:
        """The master's live child processes."""
        return _processes(1, self.pid)

    def get(self) -> Answer:
        return Answer.parse(loadgen.get("/", timeout=2, port=self.port))

    def hup(self) -> None:
        os.kill(self.pid, signal.SIGHUP)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def log_lines(self, text: str) -> list[str]:
        return [line for line in self.log().splitlines() if text in line]

    def serving(self, count: int, timeout: float = 30) -> None:
        """Wait until ``count`` workers run, each of which has answered."""
        answered: set[int] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            assert self.process.poll() is None, self.tail()
            with contextlib.suppress(OSError, ValueError, http.client.HTTPException):
                answered.add(self.get().pid)
            workers = self.workers()
            if len(workers) == count and workers <= answered:
                return
            time.sleep(0.02)
        pytest.fail(f"{count} workers did not all answer in {timeout}s\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log().splitlines()[-60:])

    def stop(self) -> None:
        """SIGKILL the master and every process of its session, each by its pid."""
        self.statsd.close()
        if self.process is None:
            return
        deadline = time.monotonic() + 10
        while (left := _processes(3, self.pid)) and time.monotonic() < deadline:
            for pid in sorted(left):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        self.process.wait(5)
        assert not left, f"still running after the test: {sorted(left)}"


@pytest.fixture
def start_master(
    tmp_path,
) -> collections.abc.Iterator[collections.abc.Callable[..., Master]]:
    """Start a master serving token "one"; every master started is stopped afterwards."""
    numbers = itertools.count()
    with contextlib.ExitStack() as stops:

        def start(python: str, workers: int = 2, keepalive: int = 2) -> Master:
            if not os.access(python, os.X_OK):
                pytest.fail(f"{python} is missing: run make setup")
            master = Master(python, tmp_path / f"master-{next(numbers)}")
            stops.callback(master.stop)
            master.write_config(workers, keepalive)
            master.write_settings("one")
            master.start()
            master.serving(workers)
            return master

        yield start


# Two clients that keep their connection alive and two that open one per request.
CLIENTS = [
    loadgen.Clients(2, keep_body=True, pause=0.01),
    loadgen.Clients(2, keepalive=False, keep_body=True, pause=0.01),
]
CHUNK = 0.5


@dataclasses.dataclass
class Load:
    """Every request made while a change went through, and whether it settled in time."""

    records: list[loadgen.Record]
    changed_at: float
    settled_at: float | None

    @property
    def failures(self) -> list[tuple[float, str | None]]:
        return [(r.start - self.changed_at, r.failure) for r in self.records if not r.ok]

    def answers(self) -> list[tuple[float, Answer]]:
        """(end, answer) of every success, in the order they ended."""
        ends = sorted((r.end, r.body) for r in self.records if r.ok and r.body is not None)
        return [(end, Answer.parse(body)) for end, body in ends]

    def longest_gap(self) -> float:
        """The longest time after the change in which no request got its answer."""
        ends = [end for end, _ in self.answers() if end >= self.changed_at]
        points = [self.changed_at, *ends]
        return max(after - before for before, after in itertools.pairwise(points))


def load_until(
    master: Master,
    change: collections.abc.Callable[[], object],
    settled: collections.abc.Callable[[list[Answer]], bool],
    timeout: float,
) -> Load:
    """Run the clients, ``change`` 0.2 s in, until ``settled`` holds for the last CHUNK.

    ``settled`` is given the answers of the last CHUNK seconds; the load stops ``timeout``
    seconds after the change if it never holds.
    """
    records: list[loadgen.Record] = []
    actions: list[loadgen.Action] = [(0.2, change, "change")]
    changed_at = math.inf
    while True:
        result = loadgen.run(CLIENTS, duration=CHUNK, actions=actions, port=master.port)
        records.extend(result.records)
        if actions:
            (action,) = result.actions
            assert action.error is None, action.error
            assert action.started is not None
            changed_at = action.started
            actions = []
        answers = [Answer.parse(body) for _, body in result.bodies()]
        if answers and settled(answers):
            return Load(records, changed_at, result.end)
        if result.end - changed_at > timeout:
            return Load(records, changed_at, None)


def rolled_to(
    master: Master, token: str, old: frozenset[int], count: int
) -> collections.abc.Callable[[list[Answer]], bool]:
    """Whether ``count`` workers, none of ``old``, run, and every answer is theirs with token."""

    def settled(answers: list[Answer]) -> bool:
        workers = master.workers()
        return (
            len(workers) == count
            and not workers & old
            and all(a.token == token and a.pid not in old for a in answers)
        )

    return settled


@pytest.mark.parametrize("python", GUNICORNS)
def test_sighup_rolls_the_workers_over_to_new_settings_with_no_failed_request(
    start_master, python
):
    master = start_master(python, workers=2, keepalive=2)
    old = master.workers()
    assert {master.get().token for _ in range(4)} == {"one"}

    def change() -> None:
        master.write_settings("two")
        master.hup()

    load = load_until(master, change, rolled_to(master, "two", old, 2), timeout=20)

    assert load.failures == [], master.tail()
    assert load.settled_at is not None, master.tail()
    assert load.settled_at - load.changed_at < 15
    answers = [answer for _, answer in load.answers()]
    assert master.process is not None
    assert master.process.poll() is None
    assert {answer.master for answer in answers} == {master.pid}
    # An old worker answers with the old settings until it goes, a new one with the new.
    assert all((answer.token == "two") == (answer.pid not in old) for answer in answers)
    assert len(master.workers()) == 2
    assert not master.workers() & old


@pytest.mark.parametrize("python", GUNICORNS)
def test_a_settings_file_written_without_sighup_is_taken_within_seconds(start_master, python):
    master = start_master(python, workers=2)
    old = master.workers()

    load = load_until(
        master,
        lambda: master.write_settings("two"),
        lambda answers: any(answer.token == "two" for answer in answers),
        timeout=5,
    )
    time.sleep(1)  # The watcher looks at least once a second: time for a second look.

    assert load.settled_at is not None, master.tail()
    assert load.failures == [], master.tail()
    answers = [answer for _, answer in load.answers()]
    assert {answer.master for answer in answers} == {master.pid}
    assert all((answer.token == "two") == (answer.pid not in old) for answer in answers)
    assert master.log_lines("Handling signal: hup") == []
    # Taken once: the file now counts as seen, so no reload loop.
    assert len(master.log_lines("rolling reload: the settings file changed")) == 1
    assert len(master.log_lines("rolling reload: loading the config")) == 1


@pytest.mark.parametrize("python", GUNICORNS)
def test_sighup_with_more_workers_in_the_config_ends_with_that_many(start_master, python):
    master = start_master(python, workers=2)
    old = master.workers()

    def change() -> None:
        master.write_config(workers=3)
        master.write_settings("three")
        master.hup()

    load = load_until(master, change, rolled_to(master, "three", old, 3), timeout=20)

    assert load.failures == [], master.tail()
    assert load.settled_at is not None, master.tail()
    answers = [answer for _, answer in load.answers()]
    assert {answer.master for answer in answers} == {master.pid}
    assert all((answer.token == "three") == (answer.pid not in old) for answer in answers)
    assert len(master.workers()) == 3
    assert not master.workers() & old


@pytest.mark.parametrize(
    "python",
    [
        pytest.param(VENV_PYTHON, id="venv-gunicorn"),
        pytest.param(ROCK_PYTHON, id="rock-gunicorn"),
    ],
)
def test_with_one_worker_a_settings_change_is_one_reload_and_never_a_pause(start_master, python):
    master = start_master(python, workers=1)

    def change() -> None:
        master.write_settings("two")
        master.hup()

    # Long enough for the new worker to load the app and take over.
    load = load_until(master, change, lambda answers: False, timeout=2.5)

    assert any(answer.token == "two" for _, answer in load.answers()), master.tail()
    assert len(master.log_lines("rolling reload: loading the config")) == 1
    assert load.failures == []
    # The app takes more than 0.5 s to import: a pause that long means nothing accepted.
    assert load.longest_gap() < 0.3
