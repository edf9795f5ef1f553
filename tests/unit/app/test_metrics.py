"""Per-route metrics: one DogStatsD datagram per request, over UDP to the statsd exporter.

Pins the metric names and their route/method/status tags, the duration, the exception counter,
the single series for unmatched paths and unknown methods, the health paths left out, the
switch, and that a sample the socket refuses costs the request nothing.
"""

from __future__ import annotations

import pathlib
import socket
import time

import flask
import pytest

from tests.unit.app import helpers


def _app(root: pathlib.Path, statsd: helpers.Statsd, **config: object) -> flask.Flask:
    app, _ = helpers.make_app(
        root, {"K8S_METRICS": True, "K8S_STATSD_HOST": statsd.address, **config}
    )

    @app.route("/items/<int:item>", methods=["GET", "POST"])
    def item(item: int) -> str:
        return str(item)

    @app.get("/slow")
    def slow() -> str:
        time.sleep(0.05)
        return "slow"

    @app.get("/boom")
    def boom() -> str:
        raise KeyError("missing")

    return app


def test_a_request_counts_and_times_its_route_method_and_status(
    tmp_path: pathlib.Path, statsd: helpers.Statsd
):
    app = _app(tmp_path, statsd)

    assert app.test_client().post("/items/42").status_code == 200

    requests, duration = statsd.receive()
    tags = {"route": "/items/<int:item>", "method": "POST", "status": "200"}
    assert requests == helpers.Metric("flask_route_requests", 1, "c", tags)
    assert (duration.name, duration.type, duration.tags) == (
        "flask_route_request_duration",
        "ms",
        tags,
    )


def test_the_duration_is_the_requests_time_in_milliseconds(
    tmp_path: pathlib.Path, statsd: helpers.Statsd
):
    app = _app(tmp_path, statsd)

    app.test_client().get("/slow")

    _, duration = statsd.receive()
    assert 50 <= duration.value < 1000


def test_an_unhandled_exception_is_counted_with_its_type(
    tmp_path: pathlib.Path, statsd: helpers.Statsd
):
    app = _app(tmp_path, statsd)

    assert app.test_client().get("/boom").status_code == 500

    requests, _, exceptions = statsd.receive()
    assert requests.tags["status"] == "500"
    assert exceptions == helpers.Metric(
        "flask_route_exceptions",
        1,
        "c",
        {"route": "/boom", "method": "GET", "exception": "KeyError"},
    )


def test_every_path_no_route_matched_shares_one_series(
    tmp_path: pathlib.Path, statsd: helpers.Statsd
):
    app = _app(tmp_path, statsd)
    client = app.test_client()

    client.get("/wp-admin/setup.php")
    client.get("/.env")

    for _ in range(2):
        requests, _ = statsd.receive()
        assert requests.tags == {"route": "<unmatched>", "method": "GET", "status": "404"}


@pytest.mark.parametrize("method", ["PROPFIND", "BREW", "get"])
def test_a_method_outside_http_s_usual_ones_is_other_and_case_does_not_matter(
    tmp_path: pathlib.Path, statsd: helpers.Statsd, method: str
):
    app = _app(tmp_path, statsd)

    app.test_client().open("/items/1", method=method)

    requests, _ = statsd.receive()
    assert requests.tags["method"] == ("GET" if method == "get" else "OTHER")


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"])
def test_the_usual_methods_are_their_own_label(
    tmp_path: pathlib.Path, statsd: helpers.Statsd, method: str
):
    app = _app(tmp_path, statsd)

    app.test_client().open("/items/1", method=method)

    requests, _ = statsd.receive()
    assert requests.tags["method"] == method


def test_a_route_with_statsd_separators_cannot_break_the_line(
    tmp_path: pathlib.Path, statsd: helpers.Statsd
):
    app = _app(tmp_path, statsd)

    @app.get("/a,b|c")
    def odd() -> str:
        return "odd"

    app.test_client().get("/a,b|c")

    requests, duration = statsd.receive()
    assert requests.tags == {"route": "/a_b_c", "method": "GET", "status": "200"}
    assert duration.tags["route"] == "/a_b_c"


def test_health_probes_send_no_metrics(tmp_path: pathlib.Path, statsd: helpers.Statsd):
    app = _app(tmp_path, statsd)
    client = app.test_client()

    for path in ("/__lbheartbeat__", "/__heartbeat__", "/__version__"):
        client.get(path)
    client.get("/items/1")

    # The first datagram to arrive is the last request's.
    requests, _ = statsd.receive()
    assert requests.tags["route"] == "/items/<int:item>"
    assert statsd.pending() == []


def test_the_error_endpoint_is_measured_like_any_route(
    tmp_path: pathlib.Path, statsd: helpers.Statsd
):
    app = _app(tmp_path, statsd, K8S_ENABLE_ERROR_ENDPOINT=True)

    app.test_client().get("/__error__")

    requests, _, exceptions = statsd.receive()
    assert requests.tags == {"route": "/__error__", "method": "GET", "status": "500"}
    assert exceptions.tags["exception"] == "RuntimeError"


@pytest.mark.parametrize("setting", [False, "false", "0"])
def test_metrics_can_be_turned_off(
    tmp_path: pathlib.Path, statsd: helpers.Statsd, setting: object
):
    app = _app(tmp_path, statsd, K8S_METRICS=setting)

    assert app.test_client().get("/items/1").status_code == 200

    assert statsd.pending() == []


def test_a_statsd_host_that_is_not_host_colon_port_sends_nothing_and_breaks_nothing(
    tmp_path: pathlib.Path, statsd: helpers.Statsd
):
    app = _app(tmp_path, statsd, K8S_STATSD_HOST="statsd-without-port")

    assert app.test_client().get("/items/1").status_code == 200

    assert statsd.pending() == []


def test_a_sample_the_socket_refuses_is_lost_and_the_request_still_answers(
    tmp_path: pathlib.Path, statsd: helpers.Statsd
):
    app = _app(tmp_path, statsd)
    # A route too long for one UDP datagram: sendto refuses it.
    long_path = "/" + "x" * 70000
    app.add_url_rule(long_path, "long", lambda: "long")

    assert app.test_client().get(long_path).status_code == 200
    assert app.test_client().get("/items/1").status_code == 200

    requests, _ = statsd.receive()
    assert requests.tags["route"] == "/items/<int:item>"


def test_an_ipv6_statsd_host_in_brackets_gets_the_metrics(tmp_path: pathlib.Path):
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("::1", 0))
        receiver.settimeout(0.3)
        port = receiver.getsockname()[1]
        app, _ = helpers.make_app(
            tmp_path, {"K8S_METRICS": True, "K8S_STATSD_HOST": f"[::1]:{port}"}
        )

        app.test_client().get("/nowhere")

        data, _ = receiver.recvfrom(65536)
    assert data.startswith(b"flask_route_requests:1|c|#route:<unmatched>")
