"""The app's logs: JSON, mozlog and text lines, request ids, and one summary line per request.

Pins each format's fields, how the format and level are chosen, that the library's handler
replaces console handlers and itself instead of doubling lines, the request id taken from the
caller (when valid) or made, echoed and stamped on every line of the request, and the
``request.summary`` line with its fields, levels and user id.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pathlib
import re
import socket
import sys
import typing

import flask
import pytest

import flask_k8s_app
from flask_k8s_app import _logs
from tests.unit.app import helpers

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def _app(root: pathlib.Path, **config: object) -> flask.Flask:
    """An app logging through the library, with a route that logs a warning with a field."""
    app, _ = helpers.make_app(root, config, logging=True)

    @app.get("/orders/<int:order>")
    def place(order: int) -> str:
        logging.getLogger("shop.orders").warning(
            "order %s placed", order, extra={"order.id": order}
        )
        return "placed"

    return app


def _root_handlers() -> list[_logs.Handler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, _logs.Handler)]


# -- JSON ---------------------------------------------------------------------------------------


def test_a_json_line_has_the_charms_schema_and_the_request_id(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path)

    app.test_client().get("/orders/7", headers={"X-Request-ID": "req-1"})

    (line,) = helpers.by_logger(helpers.json_lines(capsys.readouterr().out), "shop.orders")
    assert TIMESTAMP.fullmatch(line.pop("timestamp"))
    assert line == {
        "severityText": "WARN",
        "body": "order 7 placed",
        "attributes": {
            "logger.name": "shop.orders",
            "process.pid": os.getpid(),
            "request_id": "req-1",
            "order.id": 7,
        },
    }


def test_json_severities_are_opentelemetrys_names(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    _app(tmp_path)
    logger = logging.getLogger("shop")

    logger.info("i")
    logger.warning("w")
    logger.error("e")
    logger.critical("c")

    lines = helpers.by_logger(helpers.json_lines(capsys.readouterr().out), "shop")
    assert [line["severityText"] for line in lines] == ["INFO", "WARN", "ERROR", "FATAL"]
    # Outside a request, there is no request id.
    assert all("request_id" not in line["attributes"] for line in lines)


def test_a_json_line_of_an_exception_names_its_type_message_and_stack(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    _app(tmp_path)
    logger = logging.getLogger("shop")

    try:
        raise ValueError("bad total")
    except ValueError:
        logger.exception("checkout failed")
    try:
        json.loads("{")
    except json.JSONDecodeError:
        logger.exception("bad payload")

    builtin, qualified = helpers.by_logger(helpers.json_lines(capsys.readouterr().out), "shop")
    assert builtin["attributes"]["exception.type"] == "ValueError"
    assert builtin["attributes"]["exception.message"] == "bad total"
    assert builtin["attributes"]["exception.stacktrace"].startswith("Traceback")
    assert builtin["attributes"]["exception.stacktrace"].endswith("ValueError: bad total")
    assert qualified["attributes"]["exception.type"] == "json.decoder.JSONDecodeError"


def test_an_unhandled_error_in_a_view_is_logged_with_its_request_id(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaput")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-9"})

    assert response.status_code == 500
    (line,) = helpers.by_logger(helpers.json_lines(capsys.readouterr().out), "testapp")
    assert line["severityText"] == "ERROR"
    assert line["attributes"]["request_id"] == "req-9"
    assert line["attributes"]["exception.type"] == "RuntimeError"


# -- mozlog and text ----------------------------------------------------------------------------


def test_a_mozlog_line_is_dockerflows_envelope(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path, K8S_LOG_FORMAT="mozlog")

    app.test_client().get("/orders/7", headers={"X-Request-ID": "req-1"})

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (line,) = [line for line in lines if line["Type"] == "shop.orders"]
    assert isinstance(line.pop("Timestamp"), int)
    assert line == {
        "Type": "shop.orders",
        "Logger": "testapp",
        "Hostname": socket.gethostname(),
        "EnvVersion": "2.0",
        "Severity": 4,
        "Pid": os.getpid(),
        "Fields": {"order.id": 7, "msg": "order 7 placed", "rid": "req-1"},
    }


def test_mozlog_names_the_logger_after_the_service_and_maps_severities(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "shop-k8s")
    _app(tmp_path, K8S_LOG_FORMAT="mozlog", K8S_LOG_LEVEL="DEBUG")
    logger = logging.getLogger("shop")

    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
        logger.log(level, "x")
    logger.critical("y")
    logger.log(25, "between")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = [line for line in lines if line["Type"] == "shop"]
    assert {line["Logger"] for line in mine} == {"shop-k8s"}
    assert [line["Severity"] for line in mine] == [7, 6, 4, 3, 2, 7]


def test_a_mozlog_line_of_an_exception_has_the_error_and_its_traceback(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    _app(tmp_path, K8S_LOG_FORMAT="mozlog")

    try:
        raise ValueError("bad total")
    except ValueError:
        logging.getLogger("shop").exception("")

    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["Fields"]["error"] == "ValueError('bad total')"
    assert line["Fields"]["traceback"].startswith("Traceback")
    # An empty message is left out.
    assert "msg" not in line["Fields"]


def test_a_text_line_is_time_level_logger_message_then_the_fields(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path, K8S_LOG_FORMAT="text", K8S_SUMMARY_LOG=False)

    app.test_client().get("/orders/7", headers={"X-Request-ID": "req-1"})
    logging.getLogger("shop").warning("plain")

    order, plain = capsys.readouterr().out.splitlines()
    pattern = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING "
    assert re.fullmatch(pattern + r"shop\.orders: order 7 placed rid=req-1 order\.id=7", order)
    assert re.fullmatch(pattern + "shop: plain", plain)


# -- choosing the format and level --------------------------------------------------------------


def test_the_default_format_is_json_when_stdout_is_not_a_terminal(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    _app(tmp_path, K8S_LOG_FORMAT=None)

    logging.getLogger("shop").warning("hello")

    (line,) = helpers.json_lines(capsys.readouterr().out)
    assert line["body"] == "hello"


def test_the_default_format_is_text_in_debug(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    _app(tmp_path, K8S_LOG_FORMAT=None, DEBUG=True)

    logging.getLogger("shop").warning("hello")

    assert capsys.readouterr().out.rstrip().endswith(" WARNING shop: hello")


def test_the_default_format_is_text_in_a_terminal(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    controller, terminal = os.openpty()
    with os.fdopen(terminal, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        _app(tmp_path, K8S_LOG_FORMAT=None)

        logging.getLogger("shop").warning("hello")
        stdout.flush()
        written = os.read(controller, 4096).decode()
    os.close(controller)

    assert written.rstrip().endswith(" WARNING shop: hello")


def test_a_stdout_that_cannot_say_whether_it_is_a_terminal_gets_json():
    closed = io.StringIO()
    closed.close()

    assert _logs.default_format(False, closed) == "json"


def test_an_unknown_log_format_is_refused(tmp_path: pathlib.Path):
    with pytest.raises(ValueError, match="K8S_LOG_FORMAT must be one of json, mozlog, text, none"):
        _app(tmp_path, K8S_LOG_FORMAT="xml")


def test_log_format_none_leaves_logging_as_the_app_set_it(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    root = logging.getLogger()
    own = logging.StreamHandler(sys.stdout)
    root.addHandler(own)
    try:
        _app(tmp_path, K8S_LOG_FORMAT="none")
        logging.getLogger("shop").warning("hello")
    finally:
        root.removeHandler(own)

    assert _root_handlers() == []
    assert capsys.readouterr().out == "hello\n"


def test_the_extension_with_logging_off_installs_nothing(tmp_path: pathlib.Path):
    helpers.make_app(tmp_path, logging=False)

    assert _root_handlers() == []


def test_a_second_app_replaces_the_handler_instead_of_doubling_each_line(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    _app(tmp_path, K8S_LOG_FORMAT="text")
    _app(tmp_path, K8S_LOG_FORMAT="json")

    logging.getLogger("shop").warning("once")

    assert len(_root_handlers()) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["body"] == "once"


def test_a_console_handler_on_the_root_logger_gives_way_and_others_stay(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    root = logging.getLogger()
    console = logging.StreamHandler(sys.stdout)
    kept_stream = io.StringIO()
    kept = logging.StreamHandler(kept_stream)
    root.addHandler(console)
    root.addHandler(kept)
    try:
        _app(tmp_path)
        logging.getLogger("shop").warning("once")
        console_removed = console not in root.handlers
    finally:
        root.removeHandler(console)
        root.removeHandler(kept)

    assert console_removed
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["body"] == "once"
    assert kept_stream.getvalue() == "once\n"


@pytest.mark.parametrize(
    ("config", "written"),
    [
        ({}, ["info", "warning"]),
        ({"K8S_LOG_LEVEL": "warning"}, ["warning"]),
        ({"K8S_LOG_LEVEL": "DEBUG"}, ["debug", "info", "warning"]),
        ({"DEBUG": True, "K8S_LOG_FORMAT": "json"}, ["debug", "info", "warning"]),
    ],
    ids=["INFO by default", "K8S_LOG_LEVEL", "K8S_LOG_LEVEL debug", "DEBUG in debug"],
)
def test_the_log_level_is_info_or_debug_in_debug_or_k8s_log_level(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    config: dict[str, object],
    written: list[str],
):
    _app(tmp_path, **config)
    logger = logging.getLogger("shop")

    logger.debug("debug")
    logger.info("info")
    logger.warning("warning")

    assert [line["body"] for line in helpers.json_lines(capsys.readouterr().out)] == written


# -- request ids --------------------------------------------------------------------------------


def _echo_app(root: pathlib.Path, **config: object) -> flask.Flask:
    app, _ = helpers.make_app(root, config)

    @app.get("/")
    def echo() -> str:
        return str(flask.g.request_id)

    return app


@pytest.mark.parametrize("given", ["req-1", "a1b2:c3.d4_e5", "x" * 200])
def test_a_valid_request_id_from_the_caller_is_kept_and_echoed(tmp_path: pathlib.Path, given: str):
    app = _echo_app(tmp_path)

    response = app.test_client().get("/", headers={"X-Request-ID": given})

    assert response.text == given
    assert response.headers["X-Request-ID"] == given


@pytest.mark.parametrize("given", ["two words", "x" * 201, "<script>", "é"])
def test_an_invalid_request_id_is_replaced_by_a_generated_one(tmp_path: pathlib.Path, given: str):
    app = _echo_app(tmp_path)

    response = app.test_client().get("/", headers={"X-Request-ID": given})

    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])
    assert response.text == response.headers["X-Request-ID"]


def test_a_request_without_an_id_gets_a_new_one_each_time(tmp_path: pathlib.Path):
    client = _echo_app(tmp_path).test_client()

    first = client.get("/").headers["X-Request-ID"]
    second = client.get("/").headers["X-Request-ID"]

    assert GENERATED_ID.fullmatch(first)
    assert GENERATED_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("key", ["K8S_REQUEST_ID_HEADER", "DOCKERFLOW_REQUEST_ID_HEADER_NAME"])
def test_the_request_id_header_can_be_renamed(tmp_path: pathlib.Path, key: str):
    app = _echo_app(tmp_path, **{key: "X-Correlation-ID"})

    response = app.test_client().get(
        "/", headers={"X-Correlation-ID": "corr-1", "X-Request-ID": "ignored"}
    )

    assert response.text == "corr-1"
    assert response.headers["X-Correlation-ID"] == "corr-1"
    assert "X-Request-ID" not in response.headers


def test_a_request_id_the_app_set_first_is_kept_in_flask_g(tmp_path: pathlib.Path):
    app = flask.Flask("own", root_path=str(tmp_path))
    app.config.update(helpers.BASE_CONFIG)

    @app.before_request
    def own_id() -> None:
        flask.g.request_id = "set-by-the-app"

    flask_k8s_app.FlaskK8s(app, logging=False)

    @app.get("/")
    def echo() -> str:
        return str(flask.g.request_id)

    response = app.test_client().get("/", headers={"X-Request-ID": "from-caller"})

    assert response.text == "set-by-the-app"
    assert response.headers["X-Request-ID"] == "from-caller"


def test_ids_a_record_brings_itself_are_kept(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path, K8S_SUMMARY_LOG=False)

    @app.get("/job")
    def job() -> str:
        ids = {"request_id": "job-7", "trace_id": "a" * 32, "span_id": "b" * 16}
        logging.getLogger("shop").warning("for job 7", extra=ids)
        return ""

    app.test_client().get("/job", headers={"X-Request-ID": "req-1"})

    (line,) = helpers.json_lines(capsys.readouterr().out)
    assert line["attributes"]["request_id"] == "job-7"
    assert (line["traceId"], line["spanId"]) == ("a" * 32, "b" * 16)


def test_a_response_made_before_the_librarys_hook_is_still_summarised_and_measured(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], statsd: helpers.Statsd
):
    app = flask.Flask("gated", root_path=str(tmp_path))
    app.config.update(
        {**helpers.BASE_CONFIG, "K8S_METRICS": True, "K8S_STATSD_HOST": statsd.address}
    )

    @app.before_request
    def maintenance() -> tuple[str, int]:
        return "down for maintenance", 503

    flask_k8s_app.FlaskK8s(app)

    response = app.test_client().get("/anything", headers={"X-Request-ID": "req-1"})

    assert response.status_code == 503
    # The library's hook did not run: no request id was taken or made.
    assert "X-Request-ID" not in response.headers
    (line,) = _summaries(capsys.readouterr().out)
    assert line["attributes"]["http.response.status_code"] == 503
    assert line["attributes"]["duration_ms"] == 0
    requests, _ = statsd.receive()
    assert requests.tags["status"] == "503"


def test_the_request_id_is_forgotten_when_the_request_ends(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path, K8S_SUMMARY_LOG=False)

    app.test_client().get("/orders/1", headers={"X-Request-ID": "req-1"})
    logging.getLogger("shop").warning("after the request")

    inside, after = helpers.json_lines(capsys.readouterr().out)
    assert inside["attributes"]["request_id"] == "req-1"
    assert "request_id" not in after["attributes"]
    assert _logs.request_id.get() is None


# -- the summary line ---------------------------------------------------------------------------


def _summaries(out: str) -> list[dict[str, typing.Any]]:
    return helpers.by_logger(helpers.json_lines(out), "request.summary")


def test_each_request_logs_one_summary_line_with_its_route_status_and_duration(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path)

    app.test_client().get(
        "/orders/7",
        headers={
            "X-Request-ID": "req-1",
            "User-Agent": "curl/8",
            "Accept-Language": "fr-CA",
        },
    )

    (line,) = _summaries(capsys.readouterr().out)
    assert line["severityText"] == "INFO"
    assert line["body"] == "GET /orders/7 200"
    attributes = dict(line["attributes"])
    duration = attributes.pop("duration_ms")
    assert isinstance(duration, float | int)
    assert duration >= 0
    assert attributes == {
        "logger.name": "request.summary",
        "process.pid": os.getpid(),
        "request_id": "req-1",
        "http.request.method": "GET",
        "url.path": "/orders/7",
        "http.route": "/orders/<int:order>",
        "http.response.status_code": 200,
        "errno": 0,
        "user_agent.original": "curl/8",
        "http.request.header.accept-language": "fr-CA",
    }


def test_a_failed_request_has_its_status_as_errno_and_no_route_when_none_matched(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path)

    app.test_client().get("/no/such/page", headers={"User-Agent": ""})

    (line,) = _summaries(capsys.readouterr().out)
    attributes = line["attributes"]
    assert attributes["http.response.status_code"] == 404
    assert attributes["errno"] == 404
    assert attributes["http.route"] == "<unmatched>"
    assert "user_agent.original" not in attributes
    assert "http.request.header.accept-language" not in attributes


@pytest.mark.parametrize(
    ("config", "query"),
    [
        ({}, None),
        ({"K8S_SUMMARY_LOG_QUERYSTRING": True}, "q=shoes&page=2"),
        ({"DOCKERFLOW_SUMMARY_LOG_QUERYSTRING": "yes"}, "q=shoes&page=2"),
    ],
    ids=["off by default", "K8S_SUMMARY_LOG_QUERYSTRING", "Dockerflow's name"],
)
def test_the_query_string_is_logged_only_when_asked(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    config: dict[str, object],
    query: str | None,
):
    app = _app(tmp_path, **config)

    app.test_client().get("/orders/7?q=shoes&page=2")
    app.test_client().get("/orders/8")

    with_query, without_query = _summaries(capsys.readouterr().out)
    assert with_query["attributes"].get("url.query") == query
    assert "url.query" not in without_query["attributes"]


def test_health_probes_are_summarised_at_debug_only(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    quiet = _app(tmp_path)
    for path in ("/__lbheartbeat__", "/__heartbeat__", "/__version__"):
        quiet.test_client().get(path)
    assert _summaries(capsys.readouterr().out) == []

    verbose = _app(tmp_path, K8S_LOG_LEVEL="DEBUG")
    for path in ("/__lbheartbeat__", "/__heartbeat__", "/__version__"):
        verbose.test_client().get(path)
    lines = _summaries(capsys.readouterr().out)
    assert [(line["severityText"], line["body"]) for line in lines] == [
        ("DEBUG", "GET /__lbheartbeat__ 200"),
        ("DEBUG", "GET /__heartbeat__ 200"),
        ("DEBUG", "GET /__version__ 404"),
    ]


def test_the_summary_line_can_be_turned_off(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app = _app(tmp_path, K8S_SUMMARY_LOG="false")

    app.test_client().get("/orders/7")

    assert _summaries(capsys.readouterr().out) == []


def test_the_user_id_loader_names_the_user_in_the_summary(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app, ext = helpers.make_app(tmp_path, logging=True)
    users = iter(["alice", None])

    @ext.user_id_loader
    def current_user() -> str | None:
        return next(users)

    app.test_client().get("/nowhere")
    app.test_client().get("/nowhere")

    first, second = _summaries(capsys.readouterr().out)
    assert first["attributes"]["user.id"] == "alice"
    assert "user.id" not in second["attributes"]


def test_a_user_id_loader_registered_before_init_app_is_used(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    ext = flask_k8s_app.FlaskK8s(logging=True)
    ext.user_id_loader(lambda: "bob")
    app = flask.Flask("late", root_path=str(tmp_path))
    app.config.update(helpers.BASE_CONFIG)
    ext.init_app(app)

    app.test_client().get("/nowhere")

    (line,) = _summaries(capsys.readouterr().out)
    assert line["attributes"]["user.id"] == "bob"


def test_a_failing_user_id_loader_leaves_the_user_out_and_the_request_answered(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app, ext = helpers.make_app(tmp_path, logging=True)

    @ext.user_id_loader
    def current_user() -> str | None:
        raise LookupError("no session store")

    response = app.test_client().get("/nowhere")

    assert response.status_code == 404
    (line,) = _summaries(capsys.readouterr().out)
    assert "user.id" not in line["attributes"]
