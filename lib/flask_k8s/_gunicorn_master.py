"""Code that runs in gunicorn's master, in the workload container: not in the charm.

``_gunicorn_config.render_config`` copies this module's source into gunicorn.conf.py, so it
uses the standard library only, the Python of any flask-framework rock (3.10 and later), no
relative import, and no name that is a gunicorn setting. It does three things:

- Settings: the app's environment lives in a file the charm writes (``write_settings``'s
  format), not in the Pebble service. The master applies it when it starts and each time it
  reloads, so every worker forked afterwards sees it, whether Pebble started the master, a
  check failure restarted it, or a SIGHUP reloaded it. Pebble restarts a crashed service with
  the definition it last started, so an environment kept in the plan and changed without a
  restart would come back stale; the file cannot.
- Sizing: worker and thread counts from the CPU and memory this container may use.
- Rolling reload: SIGHUP reloads gunicorn.conf.py and the settings, then replaces the workers
  one at a time: a new worker is forked, and only once it has loaded the app is the oldest
  old one drained: it accepts no new connection and closes each kept-alive one after its
  next answer ("Connection: close"), then, a keep-alive timeout later, gets SIGTERM and
  finishes what it has. gunicorn's own SIGHUP stops every old worker as soon as the new ones
  are forked, before they have loaded the app, so nothing answers for as long as the app
  takes to import (gunicorn#1199, #1757, #2443); and a worker stopped with connections kept
  alive drops the requests clients are sending on them.
"""

from __future__ import annotations

import collections.abc
import json
import math
import os
import signal
import time
import typing

# --- what this code uses of gunicorn's objects ----------------------------------------------

# A WSGI app (PEP 3333), as gunicorn calls it in a worker.
_Environ = dict[str, typing.Any]
_StartResponse = collections.abc.Callable[..., object]
_WSGIApp = collections.abc.Callable[[_Environ, _StartResponse], collections.abc.Iterable[bytes]]


class _Log(typing.Protocol):
    """gunicorn's logger."""

    def info(self, msg: str, /, *args: object) -> None: ...

    def warning(self, msg: str, /, *args: object) -> None: ...

    def error(self, msg: str, /, *args: object) -> None: ...


class _Worker(typing.Protocol):
    """gunicorn's Worker: in the master, its record of a child; in the child, the worker."""

    wsgi: _WSGIApp

    @property
    def age(self) -> int: ...

    @property
    def ppid(self) -> int: ...


class _Arbiter(typing.Protocol):
    """gunicorn's Arbiter, the master, as the rolling reload uses it.

    Its ``cfg`` (each setting an attribute gunicorn makes at runtime) and ``app`` are
    gunicorn's own, untyped; ``WORKERS`` maps each child's pid to its ``_Worker``.
    """

    WORKERS: dict[int, typing.Any]
    num_workers: int

    @property
    def worker_age(self) -> int: ...

    @property
    def cfg(self) -> typing.Any: ...

    @property
    def app(self) -> typing.Any: ...

    @property
    def log(self) -> _Log: ...

    def setup(self, app: typing.Any, /) -> None: ...

    def spawn_worker(self) -> int: ...

    def kill_worker(self, pid: int, sig: int, /) -> None: ...

    def manage_workers(self) -> None: ...


# --- settings -------------------------------------------------------------------------------

# The settings file's format, written by flask_k8s._workload_plan.encode_settings.
SETTINGS_VERSION = 1

# What tells one version of a file from another: device, inode, mtime and size.
_Identity = tuple[int, int, int, int]


class _Settings(typing.TypedDict):
    """What the master keeps on the Arbiter about the settings it applied."""

    base: dict[str, str]
    applied: frozenset[str]
    seen: _Identity | None
    path: str


def _identity(stat: os.stat_result) -> _Identity:
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)


def file_identity(path: str) -> _Identity | None:
    """What tells one version of a file from another (the charm replaces it whole)."""
    try:
        return _identity(os.stat(path))
    except OSError:
        return None


def read_settings(path: str) -> tuple[dict[str, str], _Identity] | tuple[None, None]:
    """The settings file's environment and identity; (None, None) when there is none yet.

    Raises ValueError for a file this code cannot read as settings.
    """
    try:
        with open(path, encoding="utf-8") as file:
            identity = _identity(os.fstat(file.fileno()))
            data = json.load(file)
    except FileNotFoundError:
        return None, None
    # A JSON object's keys are strings; what the environment holds is checked below.
    document = typing.cast("dict[str, object]", data) if isinstance(data, dict) else {}
    environment = document.get("environment")
    if not _is_environment(environment):
        raise ValueError(f"{path} holds no environment")
    return environment, identity


def _is_environment(value: object) -> typing.TypeGuard[dict[str, str]]:
    if not isinstance(value, dict):
        return False
    # Any JSON object: _is_variable checks each key and value.
    entries = typing.cast("dict[object, object]", value)
    return all(_is_variable(key, item) for key, item in entries.items())


def _is_variable(key: object, value: object) -> bool:
    """Whether the OS takes this as an environment variable (os.environ raises otherwise)."""
    return (
        isinstance(key, str)
        and isinstance(value, str)
        and key != ""
        and "=" not in key
        and "\0" not in key
        and "\0" not in value
    )


def apply_settings(server: typing.Any, path: str) -> int | None:
    """Make the master's environment the settings file's: set, change and remove variables.

    A variable the previous settings set and the new ones do not is removed again, or given
    back the value the master started with. Returns the number of variables set, or None
    when there is no file (or one that can't be read: the environment stays as it was).
    ``server`` is gunicorn's Arbiter: this keeps its state there.
    """
    state: _Settings | None = getattr(server, "_flask_k8s_settings", None)
    if state is None:
        state = {"base": dict(os.environ), "applied": frozenset(), "seen": None, "path": path}
        server._flask_k8s_settings = state
    state["path"] = path
    # Whatever happens, this version of the file has been seen: no reload loop on a bad one.
    state["seen"] = file_identity(path)
    try:
        environment, identity = read_settings(path)
    except (OSError, ValueError) as error:
        server.log.error("the app's settings are unchanged: cannot read %s: %s", path, error)
        return None
    if environment is None:
        return None
    state["seen"] = identity
    for key in state["applied"] - environment.keys():
        if key in state["base"]:
            os.environ[key] = state["base"][key]
        else:
            os.environ.pop(key, None)
    os.environ.update(environment)
    state["applied"] = frozenset(environment)
    return len(environment)


# gunicorn settings whose default gunicorn reads from the environment once, when it is
# imported: before the settings file is applied, and never again on a reload. The ingress
# integration sets FORWARDED_ALLOW_IPS.
ENVIRONMENT_DEFAULTS = {"forwarded_allow_ips": ("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")}


def follow_environment(server: typing.Any) -> None:
    """Give the master's config the values the app's settings imply for those settings.

    A value gunicorn refuses is logged and the setting left as it was: raising here would
    stop the master.
    """
    for name, (variable, default) in ENVIRONMENT_DEFAULTS.items():
        try:
            server.cfg.set(name, os.environ.get(variable, default))
        except Exception as error:  # gunicorn's validators raise anything
            server.log.error("%s is unchanged: gunicorn refuses %s: %s", name, variable, error)


# --- sizing ---------------------------------------------------------------------------------

# What a default worker count assumes a worker and the master need: the count stays within
# the container's memory limit. A set webserver-workers wins.
WORKER_MEMORY = 128 * 2**20
MASTER_MEMORY = 64 * 2**20
# Threads per worker of the default (gthread) worker: enough to overlap waits on the
# database or an API, few enough that the GIL is not the queue.
DEFAULT_THREADS = 8


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as file:
            return file.read().strip()
    except (OSError, ValueError):
        return None


def _cgroup_paths(proc_self: str) -> dict[str, str]:
    """The cgroup of this process per hierarchy: {"": path} for v2, {controller: path}."""
    text = _read(os.path.join(proc_self, "cgroup")) or ""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _ancestors(root: str, path: str) -> list[str]:
    """The cgroup directory of ``path`` under ``root`` and its parents, up to ``root``."""
    directory = os.path.normpath(os.path.join(root, path.lstrip("/")))
    root = os.path.normpath(root)
    found: list[str] = []
    while directory.startswith(root):
        found.append(directory)
        if directory == root:
            break
        directory = os.path.dirname(directory)
    if root not in found:
        found.append(root)
    return found


def _v1_dirs(
    root: str,
    paths: collections.abc.Mapping[str, str],
    controller: str,
    names: collections.abc.Iterable[str],
) -> list[str]:
    """Where a cgroup v1 controller's files are: the process's group, else the mount's root.

    In a container without a cgroup namespace, /proc/self/cgroup names the host's path,
    while the container sees its own group at the mount's root.
    """
    path = paths.get(controller, "/")
    dirs: list[str] = []
    for name in names:
        mount = os.path.join(root, name)
        if os.path.isdir(mount):
            dirs.extend(_ancestors(mount, path))
            dirs.append(mount)
    return dirs


def cpu_limit(cgroup_root: str = "/sys/fs/cgroup", proc_self: str = "/proc/self") -> float:
    """The CPUs this process may use: the smallest of its affinity mask and any CFS quota.

    cgroup v2 (``cpu.max`` of its group and every parent) or v1 (``cpu.cfs_quota_us``); the
    host's CPU count is never the answer unless nothing narrower applies.
    """
    try:
        limit = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        limit = float(os.cpu_count() or 1)
    paths = _cgroup_paths(proc_self)
    quotas: list[float | None] = []
    if "" in paths:
        for directory in _ancestors(cgroup_root, paths[""]):
            value = _read(os.path.join(directory, "cpu.max"))
            fields = value.split() if value else []
            if len(fields) == 2 and fields[0] != "max":
                quotas.append(_ratio(fields[0], fields[1]))
    for directory in _v1_dirs(cgroup_root, paths, "cpu", ("cpu,cpuacct", "cpu")):
        quota = _read(os.path.join(directory, "cpu.cfs_quota_us"))
        period = _read(os.path.join(directory, "cpu.cfs_period_us"))
        if quota and period and not quota.startswith("-"):
            quotas.append(_ratio(quota, period))
    usable = [quota for quota in quotas if quota is not None and quota > 0]
    return min([limit, *usable])


def _ratio(quota: str, period: str) -> float | None:
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def memory_limit(cgroup_root: str = "/sys/fs/cgroup", proc_self: str = "/proc/self") -> int | None:
    """The bytes of memory this process's cgroup may use, or None without a limit."""
    paths = _cgroup_paths(proc_self)
    limits: list[int] = []
    if "" in paths:
        for directory in _ancestors(cgroup_root, paths[""]):
            value = _read(os.path.join(directory, "memory.max"))
            if value and value.isdigit():
                limits.append(int(value))
    for directory in _v1_dirs(cgroup_root, paths, "memory", ("memory",)):
        value = _read(os.path.join(directory, "memory.limit_in_bytes"))
        # v1 writes "no limit" as the largest page-aligned 64-bit number.
        if value and value.isdigit() and int(value) < 2**62:
            limits.append(int(value))
    return min(limits) if limits else None


def default_workers(cpus: float, memory: int | None) -> int:
    """One worker per CPU the container may use (rounded up), one more, within its memory.

    The extra worker keeps a CPU busy while another waits on the GIL or a slow request.
    """
    workers = math.ceil(cpus) + 1
    if memory is not None:
        workers = min(workers, max(1, (memory - MASTER_MEMORY) // WORKER_MEMORY))
    return max(1, workers)


def sizing(
    worker_class: str,
    workers: int | None = None,
    threads: int | None = None,
    cgroup_root: str = "/sys/fs/cgroup",
) -> tuple[int, int | None, str]:
    """Workers and threads: a set value wins; an unset one follows the container's limits.

    Returns (workers, threads, why); threads is None for gevent, which has its own model.
    """
    cpus = cpu_limit(cgroup_root)
    memory = memory_limit(cgroup_root)
    if workers is None:
        workers = default_workers(cpus, memory)
    if threads is None and worker_class in ("sync", "gthread"):
        threads = DEFAULT_THREADS
    memory_text = "no memory limit" if memory is None else f"{memory / 2**20:.0f} MiB"
    why = f"{cpus:g} CPUs, {memory_text}"
    return workers, threads, why


# --- rolling reload -------------------------------------------------------------------------

# A new worker tells the master it has loaded the app with this signal (its pid goes down a
# pipe), and the master tells an old worker to drain with it: one gunicorn does not use, and
# one whose default action is to do nothing.
READY_SIGNAL = signal.SIGURG
# A draining worker gets SIGTERM this long after its keep-alive timeout: by then each of its
# kept-alive connections has had its last answer or timed out as it would anyway.
DRAIN_MARGIN = 1.0
# How long a new settings file may wait for the SIGHUP that follows it before the master
# reloads on its own (a hook cut short between the two).
WATCH_GRACE = 2.0
# What this code needs from gunicorn's Arbiter; without one, SIGHUP stays gunicorn's own.
_ARBITER_NEEDS = (
    "WORKERS",
    "worker_age",
    "num_workers",
    "manage_workers",
    "spawn_worker",
    "kill_worker",
    "setup",
    "signal",
    "app",
    "cfg",
    "log",
)


class _Roll:
    """The master's rolling-reload state; it lives on the Arbiter, across config reloads."""

    def __init__(self, manage_workers: collections.abc.Callable[[], object]) -> None:
        self.ready_read, self.ready_write = os.pipe()
        os.set_blocking(self.ready_read, False)
        os.set_blocking(self.ready_write, False)
        self.manage_workers = manage_workers
        self.active = False
        self.reloading = False
        self.boundary = 0
        self.target = 0
        self.ready: set[int] = set()
        # Old workers told to drain (pid: since when), and those sent SIGTERM since.
        self.draining: dict[int, float] = {}
        self.stopping: set[int] = set()
        # When the master first saw a settings file no SIGHUP has come for yet.
        self.unsignalled_since: float | None = None


# The pipe's write end, for the workers forked with this config.
_READY_PIPE: list[int] = []
# In a worker: set once the master told it to drain.
_DRAINING: list[bool] = []


def install_rolling(server: typing.Any) -> bool:
    """Make SIGHUP a rolling reload in this master; False when this gunicorn can't.

    ``server`` is gunicorn's Arbiter, of whichever version: what it has is checked here.
    """
    missing = [name for name in _ARBITER_NEEDS if not hasattr(server, name)]
    if missing or not hasattr(server.app, "reload"):
        server.log.warning(
            "rolling reload is off: this gunicorn lacks %s; SIGHUP stays its own reload",
            ", ".join(missing) or "app.reload",
        )
        return False
    arbiter: _Arbiter = server
    roll: _Roll | None = getattr(server, "_flask_k8s_roll", None)
    if roll is None:
        roll = _Roll(arbiter.manage_workers)
        server._flask_k8s_roll = roll
    _READY_PIPE[:] = [roll.ready_write]
    # gunicorn dispatches a queued signal to the Arbiter's handle_<name> method.
    server.handle_hup = lambda: rolling_reload(arbiter, roll)
    server.handle_urg = lambda: advance(arbiter, roll)
    server.manage_workers = lambda: _manage_workers(arbiter, roll)
    signal.signal(READY_SIGNAL, server.signal)
    return True


def worker_ready(worker: _Worker) -> None:
    """In a worker that has loaded the app: make it drain on request, tell the master."""
    worker.wsgi = _closing_when_draining(worker.wsgi)
    signal.signal(READY_SIGNAL, lambda signum, frame: _drain(worker))
    if not _READY_PIPE:
        return
    try:
        os.write(_READY_PIPE[0], f"{os.getpid()}\n".encode())
        os.kill(worker.ppid, READY_SIGNAL)
    except OSError:
        # The master also reads the pipe on its next loop (at most a second later).
        pass


def _drain(worker: object) -> None:
    """In an old worker: accept no more connections, close each after its next answer."""
    _DRAINING[:] = [True]
    # gunicorn 23's gthread worker drops a connection it accepted but has not read yet when it
    # stops: a draining one accepts none. Later versions switch accepting off themselves.
    poller = getattr(worker, "poller", None)
    if poller is None or hasattr(worker, "set_accept_enabled"):
        return
    for listener in getattr(worker, "sockets", ()):
        try:
            poller.unregister(listener)
        except (KeyError, ValueError, OSError):
            pass


def _closing_when_draining(app: _WSGIApp) -> _WSGIApp:
    # The outermost wrapper: start_response is still gunicorn's, bound to its Response.
    def closing_when_draining(
        environ: _Environ, start_response: _StartResponse
    ) -> collections.abc.Iterable[bytes]:
        if _DRAINING:
            force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
            if force_close is not None:
                force_close()
        return app(environ, start_response)

    return closing_when_draining


def rolling_reload(server: _Arbiter, roll: _Roll) -> None:
    """SIGHUP: load gunicorn.conf.py and the settings again, then replace the workers."""
    server.log.info("rolling reload: loading the config and the app's settings again")
    roll.reloading = True
    try:
        server.app.reload()
        server.setup(server.app)
        server.cfg.on_reload(server)
    finally:
        roll.reloading = False
    roll.active = True
    roll.boundary = server.worker_age
    roll.target = max(1, server.cfg.workers)
    advance(server, roll)


def _manage_workers(server: _Arbiter, roll: _Roll) -> None:
    # The master's loop calls this at least once a second: the roll advances even if a
    # worker's signal was lost, and a settings file the charm wrote without its SIGHUP
    # following (a hook cut short) is still taken.
    if roll.reloading:
        return
    state: _Settings | None = getattr(server, "_flask_k8s_settings", None)
    changed = state is not None and file_identity(state["path"]) != state["seen"]
    if not changed:
        roll.unsignalled_since = None
    elif roll.unsignalled_since is None:
        # The charm's SIGHUP follows the file: give it time to arrive (gunicorn 23 runs this
        # before it handles a signal that woke it), so one change is one reload.
        roll.unsignalled_since = time.monotonic()
    elif time.monotonic() - roll.unsignalled_since >= WATCH_GRACE:
        server.log.info("rolling reload: the settings file changed, with no SIGHUP")
        roll.unsignalled_since = None
        rolling_reload(server, roll)
        roll.manage_workers()
        return
    advance(server, roll)
    roll.manage_workers()


def _read_ready(roll: _Roll) -> None:
    while True:
        try:
            data = os.read(roll.ready_read, 65536)
        except BlockingIOError:
            return
        if not data:
            return
        roll.ready.update(int(pid) for pid in data.split() if pid.isdigit())


def advance(server: _Arbiter, roll: _Roll) -> None:
    """Take the roll one step: retire old workers new ones replace, fork the next one.

    Old workers are those forked before the reload. One is retired (SIGTERM: it finishes
    its requests) for each new worker that has loaded the app, so as many workers serve as
    before; one new worker boots at a time. The Arbiter's own loop then keeps the count.
    """
    _read_ready(roll)
    workers: dict[int, _Worker] = dict(server.WORKERS)
    roll.ready &= set(workers)
    roll.stopping &= set(workers)
    roll.draining = {pid: since for pid, since in roll.draining.items() if pid in workers}
    if not roll.active:
        return
    now = time.monotonic()
    old = sorted(
        (worker.age, pid)
        for pid, worker in workers.items()
        if worker.age <= roll.boundary and pid not in roll.draining and pid not in roll.stopping
    )
    # An old worker still loading the app (forked by a reload this one replaces) serves
    # nothing yet and has no drain handler: it goes at once.
    for _, pid in [item for item in old if item[1] not in roll.ready]:
        old.remove((workers[pid].age, pid))
        roll.stopping.add(pid)
        server.kill_worker(pid, signal.SIGTERM)
    new = [pid for pid, worker in workers.items() if worker.age > roll.boundary]
    ready = [pid for pid in new if pid in roll.ready]
    while old and len(old) + len(ready) > roll.target:
        _, pid = old.pop(0)
        roll.draining[pid] = now
        server.kill_worker(pid, READY_SIGNAL)
    drain_time = max(0, server.cfg.keepalive or 0) + DRAIN_MARGIN
    for pid, since in list(roll.draining.items()):
        if now - since >= drain_time:
            del roll.draining[pid]
            roll.stopping.add(pid)
            server.kill_worker(pid, signal.SIGTERM)
    if not old and not roll.draining and len(new) >= roll.target:
        roll.active = False
        server.num_workers = roll.target
        server.log.info("rolling reload: done, %s workers", roll.target)
        return
    if len(ready) == len(new) and len(new) < roll.target:
        new.append(server.spawn_worker())
    # Every worker is counted, those stopping included: the Arbiter's own loop stops the
    # oldest workers beyond this count, and a stopped worker still loading the app is not
    # among the oldest: it would take a serving one with it, undrained.
    server.num_workers = len(old) + len(new) + len(roll.draining) + len(roll.stopping)
