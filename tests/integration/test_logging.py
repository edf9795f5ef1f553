"""Pebble's log forwarding, as the logging integration sets it up, to a local Loki receiver."""

from __future__ import annotations

import gzip
import http.server
import json
import typing

import pytest

import flask_k8s
from flask_k8s import _juju_secrets as secrets
from flask_k8s import _pebble_apply as workload
from flask_k8s import _spec as spec
from flask_k8s import local
from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import loki
from tests.integration import conftest
from tests.integration.conftest import get_json, wait_until


class Receiver(http.server.ThreadingHTTPServer):
    """Records the streams of every Loki push request it gets."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), PushHandler)
        self.streams: list[dict[str, typing.Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/loki/api/v1/push"

    def lines(self, **labels: str) -> list[str]:
        return [
            value[1]
            for stream in list(self.streams)
            if all(stream["stream"].get(key) == value for key, value in labels.items())
            for value in stream["values"]
        ]


class PushHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        typing.cast("Receiver", self.server).streams.extend(json.loads(body)["streams"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: typing.Any) -> None:
        pass


@pytest.fixture
def receiver():
    with conftest.serving(Receiver()) as server:
        yield server


def test_the_apps_log_lines_reach_loki_with_the_juju_topology(pebble, receiver):
    context = relation.Context(
        endpoint="logging",
        interface="loki_push_api",
        app_name="flask-k8s",
        model_name="local",
        model_uuid="00000000-0000-4000-8000-000000000000",
        unit_name="flask-k8s/0",
        charm_name="flask-k8s",
    )
    units = {"loki/0": {"endpoint": json.dumps({"url": receiver.url})}}
    targets = loki.log_targets(context, relation.RemoteData(relation_id=1, units=units))
    charm_state = local.local_state(
        {"flask-preferred-url-scheme": "HTTPS", "token": "logs"},
        secrets.new_key(),
        integrations=lambda: flask_k8s.Integrations(log_targets=targets),
    )

    workload.reconcile(pebble.container(), charm_state, spec.FLASK)
    get_json("/token")

    def access_line_arrived() -> bool:
        lines = receiver.lines(pebble_service="flask", juju_application="flask-k8s")
        return any('"GET /token HTTP/1.1" 200' in line for line in lines)

    wait_until(access_line_arrived, "the access log line at the receiver", timeout=60)
    stream = next(
        s["stream"] for s in receiver.streams if s["stream"].get("pebble_service") == "flask"
    )
    assert stream["juju_model"] == "local"
    assert stream["juju_unit"] == "flask-k8s/0"
    assert stream["product"] == "Juju"
    # gunicorn's error log (its start-up lines) goes the same way.
    assert any("Booting worker" in line for line in receiver.lines(pebble_service="flask"))
