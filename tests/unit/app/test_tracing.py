"""Tracing: Flask instrumented when the charm set an OTLP endpoint, and trace ids in the logs.

Pins when the app is instrumented (OTEL_EXPORTER_OTLP_ENDPOINT, or K8S_TRACING either way),
that a traced request joins its caller's trace and health probes make no span, the request id
on the current span, the trace and span ids on every log line, the extra named when the
instrumentation is missing, and an app that runs without OpenTelemetry at all.
"""

from __future__ import annotations

import collections.abc
import json
import logging
import pathlib
import sys

import flask
import pytest
from opentelemetry import trace
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.trace import export
from opentelemetry.sdk.trace.export import in_memory_span_exporter

import flask_k8s_app
from tests.unit.app import helpers

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
ENDPOINT = "http://127.0.0.1:4318"


def _app(root: pathlib.Path, **config: object) -> flask.Flask:
    app, _ = helpers.make_app(root, {"K8S_LOG_LEVEL": "DEBUG", **config}, logging=True)

    @app.get("/hello")
    def hello() -> str:
        logging.getLogger("shop").info("inside")
        return "hello"

    return app


@pytest.fixture
def spans() -> collections.abc.Iterator[
    tuple[sdk_trace.TracerProvider, in_memory_span_exporter.InMemorySpanExporter]
]:
    """A tracer provider of the test's own (never the global one) and what it exported."""
    exporter = in_memory_span_exporter.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def _trace_ids(out: str, logger: str) -> list[str | None]:
    return [line.get("traceId") for line in helpers.by_logger(helpers.json_lines(out), logger)]


# -- when the app is traced ---------------------------------------------------------------------


def test_with_an_otlp_endpoint_a_request_joins_its_callers_trace(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)
    app = _app(tmp_path)

    app.test_client().get("/hello", headers={"traceparent": TRACEPARENT})

    out = capsys.readouterr().out
    assert _trace_ids(out, "shop") == [TRACE_ID]
    assert _trace_ids(out, "request.summary") == [TRACE_ID]


def test_without_an_otlp_endpoint_the_app_is_not_traced(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path)

    app.test_client().get("/hello", headers={"traceparent": TRACEPARENT})

    assert _trace_ids(capsys.readouterr().out, "shop") == [None]


@pytest.mark.parametrize(
    ("case", "traced"),
    [
        ((ENDPOINT, False), False),
        ((ENDPOINT, "off"), False),
        ((None, True), True),
        ((None, "1"), True),
    ],
    ids=["off despite an endpoint", "off as text", "on without an endpoint", "on as text"],
)
def test_k8s_tracing_turns_tracing_on_or_off_whatever_the_endpoint(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str | None, object],
    traced: bool,
):
    endpoint, setting = case
    if endpoint:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    app = _app(tmp_path, K8S_TRACING=setting)

    app.test_client().get("/hello", headers={"traceparent": TRACEPARENT})

    assert _trace_ids(capsys.readouterr().out, "shop") == [TRACE_ID if traced else None]


@pytest.mark.parametrize(
    "path", ["/__lbheartbeat__", "/__heartbeat__", "/__version__", "/__error__"]
)
def test_health_probes_and_the_error_endpoint_make_no_span(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)
    app = _app(tmp_path, K8S_ENABLE_ERROR_ENDPOINT=True)

    app.test_client().get(path, headers={"traceparent": TRACEPARENT})

    assert _trace_ids(capsys.readouterr().out, "request.summary") == [None]


def test_tracing_without_the_instrumentation_installed_names_the_extra(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)
    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.flask", None)

    with pytest.raises(flask_k8s_app.MissingExtra) as raised:
        helpers.make_app(tmp_path)

    assert raised.value.extra == "tracing"
    assert str(raised.value) == (
        "tracing (OTEL_EXPORTER_OTLP_ENDPOINT) needs opentelemetry.instrumentation.flask, "
        "which is not installed: pip install 'flask-k8s-app[tracing]'"
    )


# -- ids on the span and in the logs ------------------------------------------------------------


def test_the_request_id_is_recorded_on_the_current_span(
    tmp_path: pathlib.Path,
    spans: tuple[sdk_trace.TracerProvider, in_memory_span_exporter.InMemorySpanExporter],
):
    provider, exporter = spans
    app = _app(tmp_path)
    span = provider.get_tracer("test").start_span("GET /hello")

    with trace.use_span(span, end_on_exit=True):
        app.test_client().get("/hello", headers={"X-Request-ID": "req-1"})

    (finished,) = exporter.get_finished_spans()
    assert finished.attributes == {"http.request.header.x-request-id": "req-1"}


def test_a_json_line_carries_the_current_spans_trace_and_span_ids(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    spans: tuple[sdk_trace.TracerProvider, in_memory_span_exporter.InMemorySpanExporter],
):
    provider, _ = spans
    app = _app(tmp_path)
    span = provider.get_tracer("test").start_span("GET /hello")

    with trace.use_span(span, end_on_exit=True):
        app.test_client().get("/hello")

    context = span.get_span_context()
    (line,) = helpers.by_logger(helpers.json_lines(capsys.readouterr().out), "shop")
    assert line["traceId"] == f"{context.trace_id:032x}"
    assert line["spanId"] == f"{context.span_id:016x}"


def test_a_mozlog_line_carries_the_trace_and_span_ids_in_its_fields(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    spans: tuple[sdk_trace.TracerProvider, in_memory_span_exporter.InMemorySpanExporter],
):
    provider, _ = spans
    _app(tmp_path, K8S_LOG_FORMAT="mozlog")
    span = provider.get_tracer("test").start_span("job")

    with trace.use_span(span, end_on_exit=True):
        logging.getLogger("shop").warning("in a span")

    context = span.get_span_context()
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["Fields"] == {
        "msg": "in a span",
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
    }


def test_an_app_in_a_process_without_opentelemetry_still_answers_and_logs(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)
    app = _app(tmp_path)

    response = app.test_client().get("/hello", headers={"X-Request-ID": "req-1"})

    assert response.status_code == 200
    (line,) = helpers.by_logger(helpers.json_lines(capsys.readouterr().out), "shop")
    assert "traceId" not in line
    assert line["attributes"]["request_id"] == "req-1"
