"""Tracing and JSON logs from the real gunicorn, to a local OTLP/HTTP receiver.

The example app only instruments Flask; the gunicorn config the charm writes sets up the SDK
in every worker from the variables of the tracing integration, pointed here at a receiver on
127.0.0.1 that decodes each export request.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import http.server
import json
import os
import signal
import subprocess
import time
import typing
import urllib.error
import urllib.request

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

import flask_k8s
from flask_k8s import _config as config
from flask_k8s import _gunicorn_config as gunicorn
from flask_k8s import _pebble_apply as workload
from flask_k8s import _spec as spec
from flask_k8s import local
from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import tracing
from tests.integration import conftest
from tests.integration.conftest import (
    URL,
    Workload,
    answers,
    free_port,
    get_json,
    service_logs,
    wait_until,
)

TIMESTAMP_LENGTH = len("2026-01-01T00:00:00.000Z")


@dataclasses.dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    resource: dict[str, str]


class OtlpReceiver(http.server.ThreadingHTTPServer):
    """Tempo's OTLP/HTTP receiver, as far as the SDK can tell: it records every export."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", free_port()), ExportHandler)
        self.paths: list[str] = []
        self.exports: list[trace_service_pb2.ExportTraceServiceRequest] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def spans(self) -> list[ReceivedSpan]:
        return [
            ReceivedSpan(
                name=span.name,
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                resource={
                    item.key: item.value.string_value
                    for item in resource_spans.resource.attributes
                },
            )
            for export in list(self.exports)
            for resource_spans in export.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]


class ExportHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        receiver = typing.cast("OtlpReceiver", self.server)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        export = trace_service_pb2.ExportTraceServiceRequest()
        export.ParseFromString(body)
        receiver.paths.append(self.path)
        receiver.exports.append(export)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: typing.Any) -> None:
        pass


@pytest.fixture
def receiver() -> collections.abc.Iterator[OtlpReceiver]:
    with conftest.serving(OtlpReceiver()) as server:
        yield server


def tracing_integration(receiver: OtlpReceiver) -> flask_k8s.Integrations:
    """What the tracing integration gives the app when Tempo offers this receiver."""
    context = relation.Context(
        endpoint="tracing",
        interface="tracing",
        app_name="flask-k8s",
        model_name="local",
        model_uuid="00000000-0000-4000-8000-000000000000",
        unit_name="flask-k8s/0",
        charm_name="flask-k8s",
    )
    receivers = [{"protocol": {"name": "otlp_http", "type": "http"}, "url": receiver.url}]
    data = relation.RemoteData(relation_id=1, app={"receivers": json.dumps(receivers)})

    def no_secrets(secret_id: str) -> dict[str, str]:
        raise AssertionError("tracing reads no secret")

    return flask_k8s.Integrations(environment=tracing.environment(context, data, no_secrets))


def reconcile(
    item: Workload, related: flask_k8s.Integrations, *, json_logging: bool = False
) -> None:
    """The charm's reconcile, with paas-config.yaml's JSON logging on or off."""
    charm_state = local.local_state(
        {"flask-preferred-url-scheme": "HTTPS"},
        item.secret_key,
        integrations=lambda: related,
        json_logging=json_logging,
    )
    workload.reconcile(item.container, charm_state, spec.FLASK)


def get(path: str, headers: dict[str, str] | None = None, url: str = URL) -> int:
    """One request to the app; its status."""
    request = urllib.request.Request(url + path, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def json_lines(lines: list[str]) -> list[dict[str, typing.Any]]:
    """Every line as JSON; fails on the first line that is not."""
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}")
    return parsed


def access_lines(lines: list[dict[str, typing.Any]], path: str) -> list[dict[str, typing.Any]]:
    return [
        line
        for line in lines
        if line["attributes"]["logger.name"] == "gunicorn.access"
        and line["attributes"]["url.path"] == path
    ]


def test_the_apps_spans_reach_the_receiver_with_the_juju_topology(flask_workload, receiver):
    reconcile(flask_workload, tracing_integration(receiver))
    get_json("/token")

    wait_until(
        lambda: any(span.name == "GET /token" for span in receiver.spans()),
        "the request's span at the receiver",
        timeout=30,
    )

    span = next(span for span in receiver.spans() if span.name == "GET /token")
    assert set(receiver.paths) == {"/v1/traces"}
    assert span.resource["service.name"] == "flask-k8s"
    assert span.resource["juju_model"] == "local"
    assert span.resource["juju_model_uuid"] == "00000000-0000-4000-8000-000000000000"
    assert span.resource["juju_application"] == "flask-k8s"
    assert span.resource["juju_unit"] == "flask-k8s/0"
    assert span.resource["juju_charm"] == "flask-k8s"


def test_json_logs_carry_the_trace_of_their_request(flask_workload, receiver):
    reconcile(flask_workload, tracing_integration(receiver), json_logging=True)
    get_json("/token")

    assert get("/token?trace=json", {"X-Request-ID": "req-42"}) == 200
    assert get("/fail") == 500

    def logged() -> list[dict[str, typing.Any]]:
        return json_lines(service_logs(flask_workload.pebble, "flask"))

    wait_until(lambda: bool(access_lines(logged(), "/fail")), "the access lines in Pebble's log")
    lines = logged()
    (access,) = [
        line
        for line in access_lines(lines, "/token")
        if line["attributes"].get("url.query") == "trace=json"
    ]
    assert access["severityText"] == "INFO"
    assert access["timestamp"].endswith("Z")
    assert len(access["timestamp"]) == TIMESTAMP_LENGTH
    assert '"GET /token?trace=json HTTP/1.1" 200' in access["body"]
    assert access["body"].endswith(" req-42")
    attributes = access["attributes"]
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 200
    assert attributes["client.address"] == "127.0.0.1"
    assert attributes["http.request.header.x-request-id"] == "req-42"
    assert attributes["duration_ms"] > 0
    # gunicorn's error log is JSON too.
    booted = [line for line in lines if line["body"].startswith("Booting worker with pid")]
    assert booted
    assert {line["attributes"]["logger.name"] for line in booted} == {"gunicorn.error"}
    # The app's own error, logged while its span was active, with the exception.
    (error,) = [line for line in lines if line["body"] == "Exception on /fail [GET]"]
    assert error["severityText"] == "ERROR"
    assert error["attributes"]["logger.name"] == "app"
    assert error["attributes"]["exception.type"] == "RuntimeError"
    assert error["attributes"]["exception.message"] == "the /fail page always fails"
    assert "raise RuntimeError" in error["attributes"]["exception.stacktrace"]
    (failed,) = access_lines(lines, "/fail")
    assert failed["attributes"]["http.response.status_code"] == 500
    assert failed["traceId"] == error["traceId"]

    # The ids are those of the spans the receiver got for these requests.
    def span_of(line: dict[str, typing.Any]) -> ReceivedSpan | None:
        return next((span for span in receiver.spans() if span.span_id == line["spanId"]), None)

    wait_until(
        lambda: span_of(access) is not None and span_of(failed) is not None,
        "the spans at the receiver",
    )
    token_span, fail_span = span_of(access), span_of(failed)
    assert token_span is not None and fail_span is not None
    assert (token_span.name, token_span.trace_id) == ("GET /token", access["traceId"])
    assert (fail_span.name, fail_span.trace_id) == ("GET /fail", failed["traceId"])

    # flask_k8s_app's summary of the same request: its route, the id the client sent, and
    # the ids of its span.
    (summary,) = [
        line
        for line in lines
        if line["attributes"]["logger.name"] == "request.summary"
        and line["attributes"].get("request_id") == "req-42"
    ]
    assert summary["attributes"]["http.route"] == "/token"
    assert summary["attributes"]["http.response.status_code"] == 200
    assert (summary["traceId"], summary["spanId"]) == (access["traceId"], access["spanId"])


def test_turning_json_logging_on_reloads_gunicorn_without_a_restart(flask_workload, receiver):
    related = tracing_integration(receiver)
    reconcile(flask_workload, related)
    master = get_json("/process")["master_pid"]
    assert get("/token?format=text") == 200
    wait_until(
        lambda: any(
            '"GET /token?format=text HTTP/1.1" 200' in line
            for line in service_logs(flask_workload.pebble, "flask")
        ),
        "the text access line",
    )

    reconcile(flask_workload, related, json_logging=True)

    # The reload replaces the workers; a request may still reach an old one for a moment.
    def json_access_line() -> bool:
        get("/token?format=json")
        for line in service_logs(flask_workload.pebble, "flask"):
            if line.startswith("{") and '"url.query": "format=json"' in line:
                return "traceId" in json.loads(line)
        return False

    wait_until(json_access_line, "a JSON access line with the request's trace id")
    assert get_json("/process")["master_pid"] == master


# A rock whose requirements lack the SDK: gunicorn with the same config, straight from the
# rock's Python (Pebble is not needed to see it), with every opentelemetry import failing.
WITHOUT_OPENTELEMETRY = (
    "import sys; sys.modules['opentelemetry'] = None; "
    "from gunicorn.app.wsgiapp import run; sys.argv[0] = 'gunicorn'; run()"
)
PLAIN_APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"served without OpenTelemetry\\n"]
"""


def test_a_rock_without_the_sdk_serves_and_says_tracing_is_off(rock, receiver, tmp_path):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(PLAIN_APP)
    port = free_port()
    settings = spec.WorkloadSpec(app_dir=str(app_dir), port=port)
    config_path = tmp_path / "gunicorn.conf.py"
    config_path.write_text(
        gunicorn.render_config(
            config.WebserverConfig(workers=2), settings, tracing=True, json_logging=True
        )
    )
    env = {**os.environ, **tracing_integration(receiver).environment}
    command = [str(rock.python), "-c", WITHOUT_OPENTELEMETRY, "-c", str(config_path), "app:app"]

    check = subprocess.run(
        [*command, "--check-config"],
        env=env,
        cwd=app_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stderr

    output = tmp_path / "gunicorn.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=app_dir, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(url), "gunicorn without the SDK to serve")
        assert get("/?sdk=none", url=url) == 200
        wait_until(lambda: "sdk=none" in output.read_text(), "the access line")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    lines = json_lines([line for line in output.read_text().splitlines() if line])
    off = [line for line in lines if line["body"].startswith("tracing is off")]
    # Once, from the master, however many workers.
    assert len(off) == 1
    assert off[0]["severityText"] == "WARN"
    assert "opentelemetry-sdk" in off[0]["body"]
    assert "requirements.txt" in off[0]["body"]
    (access,) = [line for line in lines if line["attributes"].get("url.query") == "sdk=none"]
    assert access["attributes"]["http.response.status_code"] == 200
    assert "traceId" not in access
    time.sleep(1)
    assert receiver.exports == []
