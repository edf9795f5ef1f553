"""Per-route metrics as tagged statsd lines, sent to the rock's statsd exporter.

The rock already runs statsd_exporter for gunicorn's metrics (UDP 9125, scraped on 9102):
DogStatsD tags become Prometheus labels, so per-route series need no new port and no new
scrape job. One datagram per request, sent without waiting; a lost one is a lost sample.
"""

from __future__ import annotations

import os
import socket

REQUESTS = "flask_route_requests"
DURATION = "flask_route_request_duration"
EXCEPTIONS = "flask_route_exceptions"
# A request no route matched: one series, however many paths are probed.
UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _tag(value: str) -> str:
    # DogStatsD separates tags with "," and ends the line at "|" or a newline.
    return "".join("_" if char in ",|#\n\r" else char for char in value)


def method(value: str) -> str:
    """The method as a label: an unknown one is OTHER, so a client cannot add series."""
    upper = value.upper()
    return upper if upper in _METHODS else "OTHER"


def lines(
    route: str, http_method: str, status: int, seconds: float, exception: str | None
) -> bytes:
    """The datagram for one request."""
    tags = f"route:{_tag(route)},method:{method(http_method)}"
    out = [
        f"{REQUESTS}:1|c|#{tags},status:{status}",
        f"{DURATION}:{seconds * 1000:.3f}|ms|#{tags},status:{status}",
    ]
    if exception:
        out.append(f"{EXCEPTIONS}:1|c|#{tags},exception:{_tag(exception)}")
    return "\n".join(out).encode()


class Client:
    """A UDP socket to the exporter, made again in a forked worker."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self._socket: socket.socket | None = None
        self._target: tuple[str, int] | tuple[str, int, int, int] = address
        self._pid = 0

    def send(self, datagram: bytes) -> None:
        """Send without blocking; errors (no exporter, a full buffer) lose the sample only."""
        try:
            if self._socket is None or self._pid != os.getpid():
                # Resolved once per process: a name lookup per request would cost more
                # than the send.
                family, _, _, _, target = socket.getaddrinfo(
                    *self.address, type=socket.SOCK_DGRAM
                )[0]
                self._socket = socket.socket(family, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
                self._target = target  # type: ignore[assignment]
                self._pid = os.getpid()
            self._socket.sendto(datagram, self._target)
        except OSError:
            pass
