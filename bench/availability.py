"""Availability and default throughput of the real workload, measured under load.

The workload is the one the integration tests run: a real Pebble in a temporary directory
with the rock's layer, gunicorn and Flask from ``make setup`` (/opt/flask-k8s), and the
charm's own ``workload.reconcile`` applying settings through ops' real Pebble client. The app
is ``bench/slow_app`` (importing it takes a second), installed in /flask/app by
``local.install_app``. Needs root and port 8000.

a. Availability: a steady load on ``/wait`` (keep-alive and new-connection clients) while the
   settings change twice: an environment change (``token`` one -> two, so ``FLASK_TOKEN``) and
   a gunicorn-only change (``webserver-timeout`` 30 -> 31). Reports failed requests, the
   longest time without a successful answer (overall and after each change), latency, when
   every answer has the new setting (``/env/FLASK_TOKEN``) or comes from new workers
   (``/pid``), and gunicorn's master PID before and after each change.
b. Default throughput: req/s and p99 on ``/`` and on ``/wait`` (10 ms) with closed-loop
   keep-alive clients, for flask-k8s's defaults (no ``webserver-*`` option) against gunicorn's
   own default (one sync worker, as paas-charm leaves it), in interleaved rounds.

Prints a Markdown report (``--json`` for JSON). With ``--check``, exits 1 if the workload
fails any of: no failed request, no gap over 250 ms, the same master after an environment
change, and on ``/wait`` at least 4x gunicorn's default req/s at at most 0.25x its p99, and on
``/`` at least 0.9x its req/s. ``--quick`` shortens everything for a smoke test.

Usage: ``.venv/bin/python bench/availability.py [--quick] [--rounds 3] [--json] [--check]``
"""

from __future__ import annotations

import argparse
import collections.abc
import dataclasses
import http.client
import json
import os
import pathlib
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import typing

BENCH = pathlib.Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO / "lib")]

import loadgen  # noqa: E402

from flask_k8s import _config as config  # noqa: E402
from flask_k8s import _juju_secrets as secrets  # noqa: E402
from flask_k8s import _pebble_apply as workload  # noqa: E402
from flask_k8s import _spec as spec  # noqa: E402
from flask_k8s import _status as status  # noqa: E402
from flask_k8s import local  # noqa: E402

SLOW_APP = BENCH / "slow_app"
TOKEN_VARIABLE = "FLASK_TOKEN"  # noqa: S105 (the `token` option, as the app gets it)
ENV_PAGE = f"/env/{TOKEN_VARIABLE}"
# The limits of --check.
MAX_GAP_MS = 250.0
MIN_WAIT_RPS_RATIO = 4.0
MAX_WAIT_P99_RATIO = 0.25
MIN_TRIVIAL_RPS_RATIO = 0.9

DEFAULT = "flask-k8s default"
GUNICORN = "gunicorn default (paas-charm)"
VARIANTS: dict[str, dict[str, typing.Any]] = {
    DEFAULT: {},
    GUNICORN: {"webserver-workers": 1, "webserver-threads": 1},
}
PAGES = ("/", "/wait")
CHANGES = {
    "environment": "environment change: token one -> two",
    "gunicorn": "gunicorn-only change: webserver-timeout 30 -> 31",
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """How long and how hard each part runs."""

    load_seconds: float = 14.0
    env_change_at: float = 3.0
    gunicorn_change_at: float = 8.0
    keepalive_clients: int = 8
    fresh_clients: int = 8
    throughput_clients: int = 16
    warmup_seconds: float = 1.0
    measure_seconds: float = 6.0
    rounds: int = 3
    # /pid and /env answers polled during the availability load, by new-connection clients
    # (a new connection may reach any worker), each pausing this long between requests.
    probe_clients: int = 2
    probe_pause: float = 0.02
    # Switching variants: the answering workers must be the master's whole set, unchanged
    # this long, before the warm-up starts.
    settle_stable_seconds: float = 1.0


QUICK = Settings(
    load_seconds=7.0,
    env_change_at=1.5,
    gunicorn_change_at=4.0,
    warmup_seconds=0.5,
    measure_seconds=2.0,
    rounds=1,
)


# --- Processes, from /proc -----------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """The state letter and parent PID of a process, None if it is gone."""
    try:
        text = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # The command name may hold spaces and ")".
    return fields[0], int(fields[1])


def parent(pid: int) -> int | None:
    """The parent PID of a live process."""
    found = _stat(pid)
    return None if found is None or found[0] == "Z" else found[1]


def children(pid: int) -> frozenset[int]:
    """The live (not zombie) child processes of ``pid``."""
    found = set()
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                found.add(int(entry.name))
    return frozenset(found)


def threads_of(pid: int) -> int | None:
    """How many threads a process has (gthread workers grow their pool on demand)."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- The workload --------------------------------------------------------------------------


class Workload:
    """Pebble with the rock's layer, the slow app, and the charm's reconcile against it."""

    def __init__(self, rock: local.Rock, directory: pathlib.Path):
        self.rock = rock
        self.options = config.load_options(REPO)
        # The slow app does not use flask_k8s_app, but this rock has the package installed
        # (for the examples), so `auto` would pick a Dockerflow readiness check that it
        # answers with 404 (and, before liveness became a TCP connect in every mode, Pebble
        # restarted gunicorn every half minute for it). Basic checks, as such an app needs.
        self.defaults = {
            **local.config_values(self.options, []),
            "webserver-health-checks": "basic",
        }
        self.secret_key = secrets.new_key()
        self.pebble = local.Pebble(rock, directory, rock.layer())
        self.log_path = directory / "pebble.log"
        self.masters: set[int] = set()  # Every gunicorn master seen, to be sure none outlives us.
        self._container = None

    def start(self) -> None:
        """Start Pebble (as Juju does, with ``--hold``: nothing runs until a reconcile)."""
        with self.log_path.open("wb") as log:
            self.pebble.start(log)
        self._container = self.pebble.container()

    def reconcile(self, values: dict[str, typing.Any]) -> bool:
        """Apply the charm's plan for these option values; whether anything changed."""
        assert self._container is not None
        charm_state = local.local_state(
            {**self.defaults, **values}, self.secret_key, options=self.options
        )
        try:
            return workload.reconcile(self._container, charm_state, spec.FLASK)
        except status.StatusError as error:
            raise RuntimeError(f"reconcile: {type(error).__name__}: {error.message}") from None

    def master(self, timeout: float = 30.0) -> int:
        """gunicorn's master PID: the parent of a worker that answers ``/pid``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                worker = int(loadgen.get("/pid"))
                master = parent(worker)
                if master is not None:
                    self.masters.add(master)
                    return master
            except (OSError, ValueError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no gunicorn worker answered /pid in {timeout:g}s")
            time.sleep(0.05)

    def wait_for(self, path: str, expected: str, timeout: float = 60.0) -> None:
        """Wait until ``path`` answers ``expected``."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = loadgen.get(path)
                if last == expected:
                    return
            except (OSError, http.client.HTTPException) as error:
                last = type(error).__name__
            time.sleep(0.05)
        raise TimeoutError(f"{path} did not answer {expected!r} in {timeout:g}s (last: {last})")

    def settle(
        self, old_workers: frozenset[int], stable: float, timeout: float = 60.0
    ) -> tuple[int, frozenset[int]]:
        """Wait until the new workers serve alone; the master and its workers then.

        Settled means: the worker answering ``/pid`` is a child of the master, none of
        ``old_workers`` is left among the master's children, and that set of children has not
        changed for ``stable`` seconds while every answer came from it. This needs no
        knowledge of how many workers the settings ask for.
        """
        deadline = time.monotonic() + timeout
        since, last = time.monotonic(), frozenset()
        while time.monotonic() < deadline:
            try:
                worker = int(loadgen.get("/pid"))
            except (OSError, ValueError, http.client.HTTPException):
                since, last = time.monotonic(), frozenset()
                time.sleep(0.05)
                continue
            master = parent(worker)
            workers = children(master) if master is not None else frozenset()
            good = master is not None and worker in workers and not workers & old_workers
            if good and workers == last:
                if time.monotonic() - since >= stable:
                    assert master is not None
                    self.masters.add(master)
                    return master, workers
            else:
                since, last = time.monotonic(), workers if good else frozenset()
            time.sleep(0.02)
        raise TimeoutError(f"gunicorn's workers did not settle in {timeout:g}s")

    def stop(self) -> list[str]:
        """Stop Pebble and its services; kill any gunicorn master left. What went wrong."""
        problems = []
        self.pebble.stop()
        deadline = time.monotonic() + 30
        while port_open(spec.FLASK.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        for master in sorted(self.masters):
            if parent(master) is None:
                continue
            try:
                cmdline = pathlib.Path(f"/proc/{master}/cmdline").read_bytes()
            except OSError:
                continue
            if b"gunicorn" not in cmdline:
                continue  # The PID was reused by another process.
            problems.append(f"gunicorn master {master} outlived Pebble: killed")
            for pid in [*children(master), master]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if port_open(spec.FLASK.port):
            problems.append(f"port {spec.FLASK.port} still accepts connections after the run")
        return problems


# --- a. Availability -----------------------------------------------------------------------


def convergence(
    bodies: list[tuple[float, str]], since: float, old: collections.abc.Container[str]
) -> dict[str, float | None]:
    """When old answers stopped and only new ones came, in seconds after ``since``.

    ``last_old``: the last answer in ``old`` (None: there was none after ``since``).
    ``new_only``: the first answer not in ``old`` after the last old one, from which on every
    answer is new (None: never, within the load).
    """
    after = [(end, body) for end, body in bodies if end >= since]
    last_old = max((end for end, body in after if body in old), default=None)
    new_only = next(
        (end for end, body in after if body not in old and (last_old is None or end > last_old)),
        None,
    )
    return {
        "last_old": None if last_old is None else last_old - since,
        "new_only": None if new_only is None else new_only - since,
    }


def availability(bench: Workload, settings: Settings) -> dict[str, typing.Any]:
    """Part a: two changes under a steady load; what the clients saw."""
    # webserver-timeout 30 is gunicorn's default, set so the gunicorn-only change below
    # changes only the number.
    bench.reconcile({"token": "one", "webserver-timeout": 30})
    bench.wait_for(ENV_PAGE, "one")
    bench.settle(frozenset(), settings.settle_stable_seconds)

    def change(kind: str, values: dict[str, typing.Any]) -> collections.abc.Callable[[], dict]:
        def apply() -> dict[str, typing.Any]:  # Runs in the load's action thread.
            master_before = bench.master()
            workers_before = children(master_before)
            started = time.monotonic()
            changed = bench.reconcile(values)
            finished = time.monotonic()
            master_after = bench.master()
            return {
                "started": started,
                "finished": finished,
                "changed": changed,
                "master_before": master_before,
                "master_after": master_after,
                "workers_before": sorted(workers_before),
                "workers_after": sorted(children(master_after)),
            }

        return apply

    changes = [
        (
            settings.env_change_at,
            change("environment", {"token": "two", "webserver-timeout": 30}),
            "environment",
        ),
        (
            settings.gunicorn_change_at,
            change("gunicorn", {"token": "two", "webserver-timeout": 31}),
            "gunicorn",
        ),
    ]
    clients = [
        loadgen.Clients(settings.keepalive_clients, keepalive=True, path="/wait"),
        loadgen.Clients(settings.fresh_clients, keepalive=False, path="/wait"),
        loadgen.Clients(
            settings.probe_clients,
            keepalive=False,
            path=ENV_PAGE,
            keep_body=True,
            pause=settings.probe_pause,
        ),
        loadgen.Clients(
            settings.probe_clients,
            keepalive=False,
            path="/pid",
            keep_body=True,
            pause=settings.probe_pause,
        ),
    ]
    result = loadgen.run(clients, settings.load_seconds, actions=changes)
    for action in result.actions:
        if action.error is not None or action.value is None:
            raise RuntimeError(f"{action.name}: {action.error or 'did not run'}")
        bench.masters.update((action.value["master_before"], action.value["master_after"]))

    load = result.only("/wait")
    tokens = result.only(ENV_PAGE).bodies()
    pids = result.only("/pid").bodies()
    report: dict[str, typing.Any] = {
        "clients": {
            "keepalive": settings.keepalive_clients,
            "fresh": settings.fresh_clients,
            "probes": settings.probe_clients * 2,
        },
        "seconds": round(result.duration, 2),
        "load": load.summary(),
        "probes": {"total": result.total - load.total, "failed": result.failed - load.failed},
        "failures_all": dict(result.failures),
        "changes": [],
    }
    starts = [action.value["started"] for action in result.actions] + [result.end]
    previous = result.start
    for index, action in enumerate(result.actions):
        value = action.value
        since, until = value["started"], starts[index + 1]
        window = [record for record in load.records if since <= record.start < until]
        latencies = [record.latency_ms for record in window if record.ok]
        gap, gap_at = load.longest_gap(since, until)
        # Workers that answered between the previous change and this one.
        old_pids = {body for end, body in pids if previous <= end <= since}
        entry = {
            "kind": action.name,
            "name": CHANGES[action.name],
            "at": round(since - result.start, 2),
            "reconcile_s": round(value["finished"] - since, 2),
            "changed": value["changed"],
            "window_s": round(until - since, 2),
            "requests": len(window),
            "failed": sum(1 for record in window if not record.ok),
            "longest_gap_ms": round(gap * 1000, 1),
            "gap_starts_s": round(gap_at - since, 2),
            "p50_ms": round(loadgen.percentile(latencies, 0.50), 1),
            "p99_ms": round(loadgen.percentile(latencies, 0.99), 1),
            "master_before": value["master_before"],
            "master_after": value["master_after"],
            "workers_before": value["workers_before"],
            "workers_after": value["workers_after"],
            "old_workers": _rounded(convergence(pids, since, old_pids)),
        }
        if action.name == "environment":
            entry["new_value"] = _rounded(convergence(tokens, since, {"one"}))
        report["changes"].append(entry)
        previous = value["finished"]
    return report


def _rounded(values: dict[str, float | None]) -> dict[str, float | None]:
    return {key: None if value is None else round(value, 2) for key, value in values.items()}


# --- b. Default throughput -----------------------------------------------------------------


def throughput(bench: Workload, settings: Settings) -> dict[str, typing.Any]:
    """Part b: each variant and page, in rounds with the variants' order alternating."""
    base = {"token": "two"}
    samples: dict[str, dict[str, list[dict[str, typing.Any]]]] = {
        variant: {page: [] for page in PAGES} for variant in VARIANTS
    }
    shape: dict[str, dict[str, typing.Any]] = {}
    bench.reconcile(base)  # With --only throughput, the app has not been started yet.
    workers = children(bench.master())
    for round_index in range(settings.rounds):
        order = list(VARIANTS) if round_index % 2 == 0 else list(VARIANTS)[::-1]
        for variant in order:
            changed = bench.reconcile({**base, **VARIANTS[variant]})
            _, workers = bench.settle(
                workers if changed else frozenset(), settings.settle_stable_seconds
            )
            threads = 0
            for page in PAGES:
                clients = [loadgen.Clients(settings.throughput_clients, path=page)]
                loadgen.run(clients, settings.warmup_seconds)
                result = loadgen.run(clients, settings.measure_seconds)
                threads = max([threads, *(threads_of(pid) or 0 for pid in workers)])
                samples[variant][page].append(
                    {
                        "rps": round(result.rps, 1),
                        "p99_ms": round(result.p99_ms, 2),
                        "p50_ms": round(result.p50_ms, 2),
                        "failed": result.failed,
                        "failures": dict(result.failures),
                    }
                )
            shape[variant] = {"workers": len(workers), "threads_max": threads}
    medians = {
        variant: {
            page: {
                "rps": round(statistics.median(s["rps"] for s in runs), 1),
                "p99_ms": round(statistics.median(s["p99_ms"] for s in runs), 2),
                "failed": sum(s["failed"] for s in runs),
            }
            for page, runs in pages.items()
        }
        for variant, pages in samples.items()
    }
    ratios = {
        page: {
            "rps": _ratio(medians[DEFAULT][page]["rps"], medians[GUNICORN][page]["rps"]),
            "p99": _ratio(medians[DEFAULT][page]["p99_ms"], medians[GUNICORN][page]["p99_ms"]),
        }
        for page in PAGES
    }
    return {
        "clients": settings.throughput_clients,
        "warmup_s": settings.warmup_seconds,
        "measure_s": settings.measure_seconds,
        "rounds": settings.rounds,
        "shape": shape,
        "median": medians,
        "ratio": ratios,
        "samples": samples,
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


# --- Checks and report ---------------------------------------------------------------------


def checks(report: dict[str, typing.Any]) -> list[dict[str, typing.Any]]:
    """The --check rules: what was measured, the limit, and whether it passed."""
    rows = []
    part_a = report.get("availability")
    if part_a is not None:
        failed = part_a["load"]["failed"] + part_a["probes"]["failed"]
        rows.append(_rule("failed requests during the changes", failed, "0", failed == 0))
        gap = part_a["load"]["longest_gap_ms"]
        rows.append(_rule("longest gap ms", gap, f"<= {MAX_GAP_MS:g}", gap <= MAX_GAP_MS))
        for change in part_a["changes"]:
            if change["kind"] == "environment":
                same = change["master_before"] == change["master_after"]
                moved = f"{change['master_before']} -> {change['master_after']}"
                rows.append(
                    _rule("master PID kept by the environment change", moved, "same", same)
                )
    part_b = report.get("throughput")
    if part_b is not None:
        wait, trivial = part_b["ratio"]["/wait"], part_b["ratio"]["/"]
        rules = (
            ("/wait req/s, default / gunicorn's", wait["rps"], ">=", MIN_WAIT_RPS_RATIO),
            ("/wait p99, default / gunicorn's", wait["p99"], "<=", MAX_WAIT_P99_RATIO),
            ("/ req/s, default / gunicorn's", trivial["rps"], ">=", MIN_TRIVIAL_RPS_RATIO),
        )
        for name, value, sense, limit in rules:
            good = value is not None and (value >= limit if sense == ">=" else value <= limit)
            rows.append(_rule(name, value, f"{sense} {limit:g}", good))
    return rows


def _rule(name: str, value: typing.Any, limit: str, good: bool) -> dict[str, typing.Any]:
    return {"check": name, "measured": value, "limit": limit, "pass": good}


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"+{value:.2f} s"


def _failures(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())) or "none"


def markdown(report: dict[str, typing.Any]) -> str:
    """The report as Markdown tables."""
    machine = report["machine"]
    lines = [
        f"{machine['cpus']} CPUs; bench Python {machine['bench_python']}; rock Python "
        f"{machine['rock_python']}, gunicorn {machine['gunicorn']}, Flask {machine['flask']}; "
        f"commit {machine['commit']} (library {machine['library']}); "
        f"{'--quick' if report['quick'] else 'full run'}.",
    ]
    part_a = report.get("availability")
    if part_a is not None:
        load, clients = part_a["load"], part_a["clients"]
        lines += [
            "",
            f"### Availability: {clients['keepalive']} keep-alive + {clients['fresh']} "
            f"new-connection clients on /wait for {part_a['seconds']:.1f} s "
            f"(+{clients['probes']} probes of {ENV_PAGE} and /pid)",
            "",
            "| | requests | failed | longest gap ms | p50 ms | p99 ms |",
            "|---|---:|---:|---:|---:|---:|",
            f"| whole run | {load['total']} | {load['failed']} | {load['longest_gap_ms']:.0f} "
            f"| {load['p50_ms']:.1f} | {load['p99_ms']:.1f} |",
        ]
        for change in part_a["changes"]:
            lines.append(
                f"| {change['name']} (at +{change['at']:.1f} s, next {change['window_s']:.1f}"
                f" s) | {change['requests']} | {change['failed']} "
                f"| {change['longest_gap_ms']:.0f} (from +{change['gap_starts_s']:.2f} s) "
                f"| {change['p50_ms']:.1f} | {change['p99_ms']:.1f} |"
            )
        lines += [
            "",
            f"Failures, all clients: {_failures(part_a['failures_all'])}.",
            "",
            "| change | reconcile | master PID | workers before -> after "
            "| old workers last answered | only new workers from | new value on every answer |",
            "|---|---:|---|---|---:|---:|---:|",
        ]
        for change in part_a["changes"]:
            same = "same" if change["master_before"] == change["master_after"] else "CHANGED"
            new_value = change.get("new_value")
            value_text = (
                ""
                if new_value is None
                else f"{TOKEN_VARIABLE}=two {_seconds(new_value['new_only'])}"
            )
            lines.append(
                f"| {change['kind']} | {change['reconcile_s']:.2f} s "
                f"| {change['master_before']} -> {change['master_after']} ({same}) "
                f"| {len(change['workers_before'])} -> {len(change['workers_after'])} "
                f"| {_seconds(change['old_workers']['last_old'])} "
                f"| {_seconds(change['old_workers']['new_only'])} | {value_text} |"
            )
        lines += [
            "",
            "Times are after the reconcile started. A gap is the longest time in which no /wait "
            "request got a whole 200 answer.",
        ]
    part_b = report.get("throughput")
    if part_b is not None:
        lines += [
            "",
            f"### Default throughput: {part_b['clients']} keep-alive clients, "
            f"{part_b['warmup_s']:g} s warm-up + {part_b['measure_s']:g} s, "
            f"median of {part_b['rounds']} interleaved rounds",
            "",
            "| page | variant | workers (max threads) | req/s | p99 ms | failed "
            "| req/s per round |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for page in PAGES:
            for variant in VARIANTS:
                median = part_b["median"][variant][page]
                shape = part_b["shape"][variant]
                rounds = ", ".join(f"{s['rps']:.0f}" for s in part_b["samples"][variant][page])
                lines.append(
                    f"| {page} | {variant} | {shape['workers']} ({shape['threads_max']}) "
                    f"| {median['rps']:.0f} | {median['p99_ms']:.1f} | {median['failed']} "
                    f"| {rounds} |"
                )
            ratio = part_b["ratio"][page]
            lines.append(
                f"| {page} | ratio, default / gunicorn's | | {_num(ratio['rps'])} "
                f"| {_num(ratio['p99'])} | | |"
            )
    lines += ["", "| check | measured | limit | result |", "|---|---:|---|---|"]
    for row in report["checks"]:
        verdict = "pass" if row["pass"] else "FAIL"
        lines.append(f"| {row['check']} | {row['measured']} | {row['limit']} | {verdict} |")
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# --- Main ----------------------------------------------------------------------------------


def machine(rock: local.Rock) -> dict[str, typing.Any]:
    """CPUs, versions and the commit measured."""
    probe = (
        "import importlib.metadata as m, platform; "
        "print(platform.python_version(), m.version('gunicorn'), m.version('flask'))"
    )
    versions = subprocess.run(
        [str(rock.python), "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "bench_python": platform.python_version(),
        "rock_python": versions[0],
        "gunicorn": versions[1],
        "flask": versions[2],
        "commit": commit or "unknown",
        "library": str(pathlib.Path(workload.__file__).parent),
    }


def main() -> int:
    """Run the parts asked for, print the report, and apply --check."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke test")
    parser.add_argument("--rounds", type=int, help="throughput rounds (default 3, quick 1)")
    parser.add_argument("--only", choices=("availability", "throughput"), help="run one part only")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--check", action="store_true", help="exit 1 if any check fails")
    args = parser.parse_args()
    settings = QUICK if args.quick else Settings()
    if args.rounds is not None:
        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
        settings = dataclasses.replace(settings, rounds=args.rounds)

    if os.geteuid() != 0:
        print("run as root: Pebble runs as root in a workload container", file=sys.stderr)
        return 2
    rock = local.Rock()
    missing = rock.missing()
    if missing:
        print(f"not installed: {', '.join(missing)}; run `make setup`", file=sys.stderr)
        return 2
    if port_open(spec.FLASK.port):
        print(f"port {spec.FLASK.port} is in use (make run, or a test?)", file=sys.stderr)
        return 2

    # A SIGTERM ends the run through the finally below, like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    report: dict[str, typing.Any] = {"quick": args.quick, "machine": machine(rock)}
    local.install_app(SLOW_APP)
    with tempfile.TemporaryDirectory(prefix="flask-k8s-bench-") as directory:
        bench = Workload(rock, pathlib.Path(directory))
        failed = False
        try:
            bench.start()
            if args.only in (None, "availability"):
                report["availability"] = availability(bench, settings)
            if args.only in (None, "throughput"):
                report["throughput"] = throughput(bench, settings)
        except BaseException:
            failed = True
            raise
        finally:
            problems = bench.stop()
            if failed and bench.log_path.exists():
                tail = bench.log_path.read_text(errors="replace").splitlines()[-40:]
                print("Pebble's log, last lines:", *tail, sep="\n", file=sys.stderr)
            for problem in problems:
                print(f"cleanup: {problem}", file=sys.stderr)
    report["checks"] = checks(report)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    if args.check and not all(row["pass"] for row in report["checks"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
