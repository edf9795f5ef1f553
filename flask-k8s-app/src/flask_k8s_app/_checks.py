"""Heartbeat checks: messages with Dockerflow's levels, and a runner that never hangs.

A check is a callable without arguments that returns its messages (an empty list or None
when all is well). Unlike python-dockerflow, the registry belongs to one app, checks run
concurrently, each within a timeout, an exception becomes an error naming the check, and a
check still running from an earlier heartbeat is waited for, never started again: a hung
dependency holds one thread per check, however often the heartbeat is probed.
"""

from __future__ import annotations

import collections.abc
import concurrent.futures
import dataclasses
import threading
import time
import typing

DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
_LEVEL_TEXT = {0: "ok", DEBUG: "debug", INFO: "info", WARNING: "warning", ERROR: "error"}
_LEVEL_TEXT[CRITICAL] = "critical"

TIMEOUT_ID = "flask_k8s_app.E_TIMEOUT"
EXCEPTION_ID = "flask_k8s_app.E_EXCEPTION"


def level_text(level: int) -> str:
    """Dockerflow's name for a level: ``ok`` for 0, ``unknown`` for a level it does not name."""
    return _LEVEL_TEXT.get(level, "unknown")


class CheckMessage:
    """What a check found, at a level; ``hint`` and ``obj`` stay out of the heartbeat's body."""

    level: int = 0

    def __init__(
        self,
        msg: str,
        level: int | None = None,
        hint: str | None = None,
        obj: object = None,
        id: str | None = None,
    ) -> None:
        self.msg = msg
        if level is not None:
            self.level = level
        self.hint = hint
        self.obj = obj
        self.id = id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CheckMessage):
            return NotImplemented
        mine = (self.level, self.msg, self.hint, self.obj, self.id)
        return mine == (other.level, other.msg, other.hint, other.obj, other.id)

    def __hash__(self) -> int:
        return hash((self.level, self.msg, self.id))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.msg!r}, id={self.id!r})"

    def __str__(self) -> str:
        text = f"({self.id}) {self.msg}" if self.id else self.msg
        if self.obj is not None:
            text = f"{self.obj}: {text}"
        return f"{text}\n\tHINT: {self.hint}" if self.hint else text

    def is_serious(self, level: int = ERROR) -> bool:
        """Whether the message fails the heartbeat (ERROR and above by default)."""
        return self.level >= level


class Debug(CheckMessage):
    """A message at level 10: the heartbeat passes."""

    level = DEBUG


class Info(CheckMessage):
    """A message at level 20: the heartbeat passes."""

    level = INFO


class Warning(CheckMessage):
    """A message at level 30: the heartbeat passes, and says so."""

    level = WARNING


class Error(CheckMessage):
    """A message at level 40: the heartbeat fails."""

    level = ERROR


class Critical(CheckMessage):
    """A message at level 50: the heartbeat fails."""

    level = CRITICAL


CheckFunction = collections.abc.Callable[[], "collections.abc.Iterable[CheckMessage] | None"]


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """One check's outcome: its level and its messages keyed by id."""

    level: int
    messages: collections.abc.Mapping[str, str]

    @property
    def status(self) -> str:
        """The level's name."""
        return level_text(self.level)


@dataclasses.dataclass(frozen=True)
class HeartbeatResult:
    """Every check's outcome, and the worst level among them."""

    level: int
    checks: collections.abc.Mapping[str, CheckResult]

    @property
    def status(self) -> str:
        """The worst level's name."""
        return level_text(self.level)

    def failed(self) -> bool:
        """Whether the heartbeat fails: a check at ERROR or above."""
        return self.level >= ERROR

    def body(self, details: bool) -> dict[str, typing.Any]:
        """Dockerflow's JSON body, the worst checks first.

        Pebble keeps the first 512 bytes of a failing body in its log: ``checks`` (names and
        levels) comes before ``details`` (messages), so that what fails is always in them.
        """
        ordered = sorted(self.checks.items(), key=lambda item: (-item[1].level, item[0]))
        body: dict[str, typing.Any] = {
            "status": self.status,
            "checks": {name: result.status for name, result in ordered},
        }
        if details:
            body["details"] = {
                name: {
                    "status": result.status,
                    "level": result.level,
                    "messages": dict(result.messages),
                }
                for name, result in ordered
                if result.level > 0
            }
        return body


class Registry:
    """One app's checks, and the runner that asks them for a heartbeat."""

    def __init__(self) -> None:
        self._checks: dict[str, CheckFunction] = {}
        self._failure_levels: dict[str, int] = {}
        self._running: dict[str, concurrent.futures.Future[list[CheckMessage]]] = {}
        self._lock = threading.Lock()
        self._cached: tuple[float, float, frozenset[str], HeartbeatResult] | None = None
        self._run_lock = threading.Lock()
        self._inflight: dict[frozenset[str], concurrent.futures.Future[HeartbeatResult]] = {}

    def register(self, name: str, func: CheckFunction, *, failure_level: int = ERROR) -> None:
        """Add a check; a name already taken is replaced.

        ``failure_level`` is the level of the check's timeout or exception: WARNING for a
        dependency the app can serve without (a cache).
        """
        with self._lock:
            self._checks[name] = func
            self._failure_levels[name] = failure_level

    def unregister(self, name: str) -> None:
        """Remove a check if it is there."""
        with self._lock:
            self._checks.pop(name, None)
            self._failure_levels.pop(name, None)

    def names(self) -> list[str]:
        """The registered checks' names, in registration order."""
        with self._lock:
            return list(self._checks)

    def run(
        self,
        timeout: float,
        cache_seconds: float = 0.0,
        silenced: collections.abc.Collection[str] = (),
    ) -> HeartbeatResult:
        """Every check's result within ``timeout`` seconds, or one up to ``cache_seconds`` old.

        Concurrent callers share one run: probes from several places cost one.
        """
        key = frozenset(silenced)
        with self._run_lock:
            now = time.monotonic()
            if self._cached is not None:
                at, cached_for, cached_key, result = self._cached
                if cached_key == key and now - at < min(cached_for, cache_seconds):
                    return result
            inflight = self._inflight.get(key)
            owner = inflight is None
            if inflight is None:
                inflight = concurrent.futures.Future()
                self._inflight[key] = inflight
        if not owner:
            # Another caller is running the checks: its answer is as fresh as a new run.
            return inflight.result()
        try:
            result = self._run(timeout, key)
        except BaseException as error:
            inflight.set_exception(error)
            raise
        finally:
            with self._run_lock:
                self._inflight.pop(key, None)
        with self._run_lock:
            self._cached = (time.monotonic(), cache_seconds, key, result)
        inflight.set_result(result)
        return result

    def _run(self, timeout: float, silenced: frozenset[str]) -> HeartbeatResult:
        with self._lock:
            checks = dict(self._checks)
            levels = dict(self._failure_levels)
        futures = {name: self._start(name, func) for name, func in checks.items()}
        deadline = time.monotonic() + timeout
        results: dict[str, CheckResult] = {}
        for name, future in futures.items():
            remaining = max(0.0, deadline - time.monotonic())
            try:
                messages: list[CheckMessage] = future.result(timeout=remaining)
            except concurrent.futures.TimeoutError:
                text = f"no answer within {timeout:g}s"
                messages = [CheckMessage(text, level=levels[name], id=TIMEOUT_ID)]
            except Exception as error:
                text = _describe(error)
                messages = [CheckMessage(text, level=levels[name], id=EXCEPTION_ID)]
            results[name] = _result(messages, silenced)
        level = max((result.level for result in results.values()), default=0)
        return HeartbeatResult(level=level, checks=results)

    def _start(
        self, name: str, func: CheckFunction
    ) -> concurrent.futures.Future[list[CheckMessage]]:
        with self._lock:
            running = self._running.get(name)
            if running is not None and not running.done():
                return running
            future: concurrent.futures.Future[list[CheckMessage]] = concurrent.futures.Future()
            self._running[name] = future

        def work() -> None:
            try:
                future.set_result(_messages(func()))
            except BaseException as error:
                future.set_exception(error)

        threading.Thread(target=work, name=f"flask-k8s-check-{name}", daemon=True).start()
        return future


def _messages(returned: object) -> list[CheckMessage]:
    if returned is None:
        return []
    if isinstance(returned, CheckMessage):
        return [returned]
    if isinstance(returned, collections.abc.Iterable) and not isinstance(returned, str | bytes):
        messages = list(typing.cast("collections.abc.Iterable[object]", returned))
        if all(isinstance(message, CheckMessage) for message in messages):
            return typing.cast("list[CheckMessage]", messages)
    raise TypeError(f"a check returns CheckMessage objects or None, not {type(returned).__name__}")


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0][:200] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _result(messages: list[CheckMessage], silenced: frozenset[str]) -> CheckResult:
    kept = [message for message in messages if message.id not in silenced]
    shown: dict[str, str] = {}
    for index, message in enumerate(kept):
        shown[message.id or f"message.{index}"] = message.msg
    return CheckResult(level=max((m.level for m in kept), default=0), messages=shown)
