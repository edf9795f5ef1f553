"""A small closed-loop HTTP load generator for a server on this machine (stdlib only).

Each client is a thread that sends one GET, waits for the whole answer, and sends the next
(closed loop: the load adapts to the server, nothing queues in the generator). A keep-alive
client reuses one ``http.client.HTTPConnection`` and, after any error, counts a failure,
closes it and reconnects; a new-connection client opens a connection per request. Every
request is recorded: its start and end (``time.monotonic``), success (HTTP 200 and the whole
body read) or the kind of failure, and optionally the body, so a caller can see which value
was served when. Actions (``(at_seconds, fn)``) run in their own threads at the given time
into the load, with their start and end recorded, to change the server under load.

Used by ``availability.py`` and importable by tests (put ``bench/`` on ``sys.path``)::

    result = loadgen.run(
        [loadgen.Clients(8, path="/wait"), loadgen.Clients(8, keepalive=False, path="/wait")],
        duration=10,
        actions=[(3.0, change_something)],
    )
    print(result.failed, result.failures, result.longest_gap(result.start, result.end))

The generator is Python threads: on a small machine it competes with the server for the
CPUs, so compare figures from the same run rather than absolute ones.
"""

from __future__ import annotations

import collections
import collections.abc
import dataclasses
import http.client
import itertools
import math
import threading
import time
import typing

HOST = "127.0.0.1"
PORT = 8000


@dataclasses.dataclass(frozen=True)
class Clients:
    """A group of identical closed-loop clients.

    ``keepalive``: reuse one connection (else a new connection per request).
    ``keep_body``: record each answer's body (decoded as UTF-8), for callers that look at it.
    ``pause``: seconds to wait between requests (0: closed loop at full speed).
    """

    count: int
    keepalive: bool = True
    path: str = "/"
    keep_body: bool = False
    pause: float = 0.0


@dataclasses.dataclass(frozen=True)
class Record:
    """One request: when it started and ended, and what came of it."""

    path: str
    client: int
    start: float
    end: float
    ok: bool
    # None on success; else the exception class or "HTTP <status>", and " (reused
    # connection)" when it failed on a connection that had already served a request (the
    # case a client may retry: the server closed it before reading the request).
    failure: str | None = None
    body: str | None = None

    @property
    def latency_ms(self) -> float:
        """How long the request took, in milliseconds."""
        return (self.end - self.start) * 1000


@dataclasses.dataclass
class ActionRecord:
    """An action run during the load: when it started and finished, and what it returned."""

    name: str
    at: float
    started: float | None = None
    finished: float | None = None
    value: typing.Any = None
    error: str | None = None


def percentile(values: collections.abc.Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclasses.dataclass
class Result:
    """Every request of a run, the run's window ``[start, end]`` and its actions."""

    records: list[Record]
    start: float
    end: float
    actions: list[ActionRecord] = dataclasses.field(default_factory=list)

    def only(self, path: str) -> Result:
        """The same run, restricted to the requests for ``path``."""
        records = [record for record in self.records if record.path == path]
        return Result(records, self.start, self.end, self.actions)

    def between(self, start: float, end: float) -> Result:
        """The requests that started and ended within ``[start, end]``, as a run of that window."""
        records = [r for r in self.records if r.start >= start and r.end <= end]
        return Result(records, start, end, self.actions)

    @property
    def duration(self) -> float:
        """Seconds from the start to the end of the run."""
        return self.end - self.start

    @property
    def total(self) -> int:
        """Requests made (answered or failed)."""
        return len(self.records)

    @property
    def successes(self) -> list[Record]:
        """The successful requests, in the order they ended."""
        return sorted((r for r in self.records if r.ok), key=lambda r: r.end)

    @property
    def failed(self) -> int:
        """Failed requests."""
        return sum(1 for record in self.records if not record.ok)

    @property
    def failures(self) -> collections.Counter[str]:
        """How many requests failed, by kind."""
        return collections.Counter(r.failure or "?" for r in self.records if not r.ok)

    @property
    def rps(self) -> float:
        """Successful requests per second over the run."""
        return len(self.successes) / self.duration if self.duration > 0 else 0.0

    def latency_ms(self, fraction: float) -> float:
        """A percentile (``fraction`` in 0..1) of the successful requests' latency in ms."""
        return percentile([record.latency_ms for record in self.records if record.ok], fraction)

    @property
    def p50_ms(self) -> float:
        """Median latency of the successful requests, in ms."""
        return self.latency_ms(0.50)

    @property
    def p99_ms(self) -> float:
        """99th percentile latency of the successful requests, in ms."""
        return self.latency_ms(0.99)

    def longest_gap(self, start: float, end: float) -> tuple[float, float]:
        """The longest interval within ``[start, end]`` in which no successful answer ended.

        The interval from ``start`` to the first success and from the last one to ``end``
        count too, so a window without any success is one gap. Returns ``(length in
        seconds, where it began)``.
        """
        ends = [r.end for r in self.records if r.ok and start <= r.end <= end]
        points = [start, *sorted(ends), end]
        length, began = 0.0, start
        for before, after in itertools.pairwise(points):
            if after - before > length:
                length, began = after - before, before
        return length, began

    def bodies(self) -> list[tuple[float, str]]:
        """``(end time, body)`` of every success whose body was kept, in the order they ended."""
        return [(r.end, r.body) for r in self.successes if r.body is not None]

    def summary(self) -> dict[str, typing.Any]:
        """The headline figures, JSON-ready."""
        gap, _ = self.longest_gap(self.start, self.end)
        return {
            "total": self.total,
            "failed": self.failed,
            "failures": dict(self.failures),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "longest_gap_ms": round(gap * 1000, 1),
        }


def _get(connection: http.client.HTTPConnection, path: str, close: bool) -> tuple[int, bytes]:
    headers = {"Connection": "close"} if close else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()  # Raises IncompleteRead if the body is cut short.
    return response.status, body


class _Client(threading.Thread):
    def __init__(
        self,
        index: int,
        group: Clients,
        *,
        host: str,
        port: int,
        timeout: float,
        stop: threading.Event,
        budget: _Budget,
        failure_pause: float,
    ):
        super().__init__(name=f"loadgen-{index}", daemon=True)
        self.index = index
        self.group = group
        self.host = host
        self.port = port
        self.timeout = timeout
        self.stop = stop
        self.budget = budget
        self.failure_pause = failure_pause
        self.records: list[Record] = []

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def run(self) -> None:
        group = self.group
        connection: http.client.HTTPConnection | None = None
        while not self.stop.is_set() and self.budget.take():
            if connection is None:
                connection = self._connect()
            # An open socket here served an earlier answer: http.client drops the socket when
            # the server says it closes, and opens one on the next request.
            reused = connection.sock is not None
            start = time.monotonic()
            failure = None
            body = b""
            try:
                status, body = _get(connection, group.path, close=not group.keepalive)
                if status != 200:
                    failure = f"HTTP {status}"
            except (OSError, http.client.HTTPException) as error:
                failure = type(error).__name__ + (" (reused connection)" if reused else "")
            end = time.monotonic()
            keep = group.keep_body and failure is None
            self.records.append(
                Record(
                    path=group.path,
                    client=self.index,
                    start=start,
                    end=end,
                    ok=failure is None,
                    failure=failure,
                    body=body.decode("utf-8", "replace") if keep else None,
                )
            )
            if failure is not None or not group.keepalive:
                connection.close()
                connection = None
            pause = group.pause if failure is None else max(group.pause, self.failure_pause)
            if pause:
                self.stop.wait(pause)
        if connection is not None:
            connection.close()


class _Budget:
    """How many requests may still start (None: no limit)."""

    def __init__(self, limit: int | None):
        self.left = limit
        self.lock = threading.Lock()

    def take(self) -> bool:
        if self.left is None:
            return True
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


Action = (
    tuple[float, collections.abc.Callable[[], typing.Any]]
    | tuple[float, collections.abc.Callable[[], typing.Any], str]
)


def run(
    clients: collections.abc.Sequence[Clients],
    duration: float,
    *,
    max_requests: int | None = None,
    timeout: float = 5.0,
    actions: collections.abc.Sequence[Action] = (),
    host: str = HOST,
    port: int = PORT,
    action_timeout: float = 120.0,
    failure_pause: float = 0.01,
) -> Result:
    """Run the clients for ``duration`` seconds (or until ``max_requests`` have started).

    ``timeout`` bounds each socket operation of a request (connect, send, each read).
    ``actions`` are ``(at_seconds, fn)`` or ``(at_seconds, fn, name)``: each ``fn`` runs in
    its own thread ``at_seconds`` after the load started; its return value (or the exception
    it raised) is kept in the result's ``actions``. The load stops at ``duration``; the run
    then waits (at most ``action_timeout`` seconds) for actions still running, and for each
    client's request in flight (at most ``timeout`` per socket operation).
    After a failure a client waits ``failure_pause`` seconds before its next request, so a
    refused connection does not turn into thousands of failures a second: the count of
    failures therefore says that requests failed more than how many a real client would see.
    """
    stop = threading.Event()
    budget = _Budget(max_requests)
    threads: list[_Client] = []
    for group in clients:
        for _ in range(group.count):
            client = _Client(
                len(threads),
                group,
                host=host,
                port=port,
                timeout=timeout,
                stop=stop,
                budget=budget,
                failure_pause=failure_pause,
            )
            threads.append(client)
    records: list[ActionRecord] = []
    runners: list[threading.Thread] = []
    start = time.monotonic()

    def perform(record: ActionRecord, fn: collections.abc.Callable[[], typing.Any]) -> None:
        if stop.wait(max(0.0, start + record.at - time.monotonic())):
            return  # The load ended first.
        record.started = time.monotonic()
        try:
            record.value = fn()
        except Exception as error:  # Reported in the result.
            record.error = f"{type(error).__name__}: {error}"
        record.finished = time.monotonic()

    for index, action in enumerate(actions):
        at, fn = action[0], action[1]
        name = action[2] if len(action) > 2 else getattr(fn, "__name__", f"action {index}")
        record = ActionRecord(name=str(name), at=at)
        records.append(record)
        runners.append(threading.Thread(target=perform, args=(record, fn), daemon=True))
    for thread in [*threads, *runners]:
        thread.start()
    if max_requests is None:
        stop.wait(duration)
    else:
        _wait_for(threads, start + duration)
    end = time.monotonic()
    stop.set()
    for thread in threads:
        thread.join(timeout * 4)
    deadline = time.monotonic() + action_timeout
    for runner in runners:
        runner.join(max(0.0, deadline - time.monotonic()))
    return Result(
        records=sorted((r for thread in threads for r in thread.records), key=lambda r: r.start),
        start=start,
        end=end,
        actions=records,
    )


def _wait_for(threads: collections.abc.Sequence[threading.Thread], deadline: float) -> None:
    """Wait until every client stopped (its budget spent) or ``deadline``, whichever first."""
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def get(path: str, timeout: float = 5.0, host: str = HOST, port: int = PORT) -> str:
    """One GET on a new connection: the body; raises unless the answer is HTTP 200."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        status, body = _get(connection, path, close=True)
    finally:
        connection.close()
    if status != 200:
        raise http.client.HTTPException(f"GET {path}: HTTP {status}")
    return body.decode("utf-8", "replace")
