"""gunicorn: the rendered config file and the service command rewrites."""

import shlex
import types

import pytest

from flask_k8s import _config as config
from flask_k8s import _gunicorn_config as gunicorn
from flask_k8s import _spec as spec
from flask_k8s import _status as status
from tests.unit import fake_gunicorn

WORKLOAD = spec.WorkloadSpec()
ROCK_COMMAND = "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py 'app:app' -k [ sync ]"
# Every combination of the optional blocks.
FLAGS = [
    {},
    {"tracing": True},
    {"json_logging": True},
    {"tracing": True, "json_logging": True},
]


def _namespace(text: str) -> dict:
    """Everything the config file defines, its helpers included."""
    namespace: dict = {}
    exec(compile(text, "gunicorn.conf.py", "exec"), namespace)  # noqa: S102
    namespace.pop("__builtins__", None)
    return namespace


def _execute(text: str) -> dict:
    """The names gunicorn reads from the file (it ignores the others; helpers start with _)."""
    return {name: value for name, value in _namespace(text).items() if not name.startswith("_")}


def test_rendered_config_is_python_with_the_fixed_settings():
    settings = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))

    assert settings["bind"] == ["0.0.0.0:8000"]
    assert settings["chdir"] == "/flask/app"
    assert settings["accesslog"] == "-"
    assert settings["errorlog"] == "-"
    assert settings["statsd_host"] == "localhost:9125"


def test_unset_timeouts_are_left_to_gunicorn():
    settings = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))

    assert not {"timeout", "keepalive"} & set(settings)


def test_unset_workers_and_threads_follow_the_container_where_gunicorn_loads_the_file():
    from flask_k8s import _gunicorn_master as gunicorn_master

    settings = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))

    workers, threads, _ = gunicorn_master.sizing("sync")
    assert (settings["workers"], settings["threads"]) == (workers, threads)
    assert threads == gunicorn_master.DEFAULT_THREADS


def test_gevent_keeps_its_own_concurrency_model():
    webserver = config.WebserverConfig(worker_class="gevent")

    settings = _execute(gunicorn.render_config(webserver, WORKLOAD, worker_class="gevent"))

    assert "threads" not in settings
    assert settings["workers"] >= 1


def test_a_set_option_wins_over_the_computed_default():
    webserver = config.WebserverConfig(threads=3)

    settings = _execute(gunicorn.render_config(webserver, WORKLOAD))

    assert settings["threads"] == 3
    assert (
        settings["workers"]
        == _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))["workers"]
    )


def test_set_tunables_are_written():
    webserver = config.WebserverConfig(workers=5, threads=3, timeout=0, keepalive=7)

    settings = _execute(gunicorn.render_config(webserver, WORKLOAD))

    assert settings["workers"] == 5
    assert settings["threads"] == 3
    assert settings["timeout"] == 0
    assert settings["keepalive"] == 7


def test_worker_class_is_not_written_to_the_file():
    webserver = config.WebserverConfig(worker_class="gevent")

    settings = _execute(gunicorn.render_config(webserver, WORKLOAD))

    assert "worker_class" not in settings


def test_both_logs_go_to_stdout():
    settings = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))

    handlers = settings["logconfig_dict"]["handlers"]
    assert {handler["stream"] for handler in handlers.values()} == {"ext://sys.stdout"}
    loggers = settings["logconfig_dict"]["loggers"]
    assert set(loggers) == {"gunicorn.error", "gunicorn.access"}


def test_port_and_paths_come_from_the_workload_spec():
    workload = spec.WorkloadSpec(port=9000, app_dir="/srv/app", statsd_host="127.0.0.1:8125")

    settings = _execute(gunicorn.render_config(config.WebserverConfig(), workload))

    assert settings["bind"] == ["0.0.0.0:9000"]
    assert settings["chdir"] == "/srv/app"
    assert settings["statsd_host"] == "127.0.0.1:8125"


@pytest.mark.parametrize("flags", FLAGS)
def test_a_hostile_string_cannot_inject_code(flags):
    hostile = "/app'\nimport os\nraise SystemExit('injected')\nx = '"
    hostile_host = '"; injected = True; "\\\n'
    workload = spec.WorkloadSpec(app_dir=hostile, statsd_host=hostile_host)

    settings = _execute(gunicorn.render_config(config.WebserverConfig(), workload, **flags))

    assert settings["chdir"] == hostile
    assert settings["statsd_host"] == hostile_host
    expected = {
        "bind",
        "chdir",
        "accesslog",
        "errorlog",
        "logconfig_dict",
        "statsd_host",
        "post_worker_init",
        "on_starting",
        "on_reload",
        "when_ready",
        "workers",
        "threads",
    }
    if flags.get("tracing"):
        expected |= {"access_log_format", "post_fork", "worker_exit"}
    assert set(settings) == expected


def test_a_non_integer_tunable_is_refused_rather_than_written():
    webserver = config.WebserverConfig(workers="2\nimport os")  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="invalid literal"):
        gunicorn.render_config(webserver, WORKLOAD)


@pytest.mark.parametrize("flags", FLAGS)
def test_gunicorn_accepts_every_rendered_setting(tmp_path, flags):
    import gunicorn.config as gunicorn_config

    # gunicorn checks that chdir exists: the app directory is a temporary one here.
    workload = spec.WorkloadSpec(app_dir=str(tmp_path))
    webserver = config.WebserverConfig(workers=2, threads=4, timeout=30, keepalive=2)
    cfg = gunicorn_config.Config()

    # gunicorn silently ignores a name it does not know (a misspelt hook): set() does not.
    for name, value in _execute(gunicorn.render_config(webserver, workload, **flags)).items():
        cfg.set(name, value)

    assert cfg.chdir == str(tmp_path)
    assert cfg.workers == 2
    assert cfg.threads == 4
    assert cfg.address == [("0.0.0.0", 8000)]  # noqa: S104
    assert cfg.statsd_host == ("localhost", 9125)


def test_split_command_drops_pebbles_default_argument_brackets():
    assert gunicorn.split_command(ROCK_COMMAND) == [
        "/bin/python3",
        "-m",
        "gunicorn",
        "-c",
        "/flask/gunicorn.conf.py",
        "app:app",
        "-k",
        "sync",
    ]


def test_worker_class_unset_leaves_the_command_untouched():
    assert gunicorn.set_worker_class(ROCK_COMMAND, None) == ROCK_COMMAND


def test_worker_class_replaces_the_k_argument_inside_brackets():
    command = gunicorn.set_worker_class(ROCK_COMMAND, "gevent")

    assert command.endswith("-k [ gevent ]")
    assert shlex.split(command) == [
        "/bin/python3",
        "-m",
        "gunicorn",
        "-c",
        "/flask/gunicorn.conf.py",
        "app:app",
        "-k",
        "[",
        "gevent",
        "]",
    ]


def test_rewriting_the_worker_class_is_idempotent():
    once = gunicorn.set_worker_class(ROCK_COMMAND, "gevent")

    assert gunicorn.set_worker_class(once, "gevent") == once
    assert gunicorn.set_worker_class(once, "sync").endswith("-k [ sync ]")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("gunicorn app:app -k sync", ["gunicorn", "app:app", "-k", "gevent"]),
        (
            "gunicorn app:app --worker-class sync",
            ["gunicorn", "app:app", "--worker-class", "gevent"],
        ),
        ("gunicorn --worker-class=sync app:app", ["gunicorn", "--worker-class=gevent", "app:app"]),
        ("gunicorn -k [ sync ] app:app", ["gunicorn", "-k", "[", "gevent", "]", "app:app"]),
    ],
)
def test_worker_class_argument_forms(command, expected):
    assert shlex.split(gunicorn.set_worker_class(command, "gevent")) == expected


@pytest.mark.parametrize(
    "command",
    [
        "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py app:app",
        "gunicorn app:app -k",
        "gunicorn app:app -k [ ]",
        "",
    ],
)
def test_worker_class_without_a_k_argument_blocks(command):
    with pytest.raises(status.Blocked, match="webserver-worker-class") as raised:
        gunicorn.set_worker_class(command, "gevent")

    assert "-k" in raised.value.message


def test_worker_class_unset_with_no_k_argument_is_fine():
    command = "gunicorn app:app"

    assert gunicorn.set_worker_class(command, None) == command


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            ROCK_COMMAND,
            [
                "/bin/python3",
                "-m",
                "gunicorn",
                "-c",
                "/tmp/candidate.py",
                "app:app",
                "-k",
                "sync",
                "--check-config",
            ],
        ),
        (
            "gunicorn --config /etc/g.py app:app",
            ["gunicorn", "--config", "/tmp/candidate.py", "app:app", "--check-config"],
        ),
        (
            "gunicorn --config=/etc/g.py app:app",
            ["gunicorn", "--config=/tmp/candidate.py", "app:app", "--check-config"],
        ),
        (
            "gunicorn app:app",
            ["gunicorn", "app:app", "-c", "/tmp/candidate.py", "--check-config"],
        ),
    ],
)
def test_check_command_checks_the_candidate_config(command, expected):
    assert gunicorn.check_command(command, "/tmp/candidate.py") == expected


@pytest.mark.parametrize(
    ("command", "python"),
    [
        (ROCK_COMMAND, "/bin/python3"),
        ("/usr/bin/python3.12 -m gunicorn app:app", "/usr/bin/python3.12"),
        ("python -m gunicorn app:app", "python"),
        ("/bin/gunicorn app:app", "python3"),
        ("", "python3"),
    ],
)
def test_interpreter_is_the_python_gunicorn_runs_with(command, python):
    assert gunicorn.interpreter(command) == python


def _serve_through_hook(trusted: list[str], environ: dict) -> dict:
    """Run the config's post_worker_init on a worker, then one request through its app."""
    seen: dict = {}

    def app(env, start_response):
        seen.update(env)
        return [b"ok"]

    worker = types.SimpleNamespace(
        wsgi=app, cfg=types.SimpleNamespace(forwarded_allow_ips=trusted)
    )
    _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))["post_worker_init"](
        worker
    )
    assert worker.wsgi(environ, lambda *args: None) == [b"ok"]
    return seen


def test_a_trusted_ingress_prefix_becomes_the_script_name():
    environ = {"HTTP_X_FORWARDED_PREFIX": "/prod-flask-k8s/", "REMOTE_ADDR": "10.1.0.2"}

    seen = _serve_through_hook(["10.1.0.2"], environ)

    assert seen["SCRIPT_NAME"] == "/prod-flask-k8s"


@pytest.mark.parametrize(
    ("trusted", "environ"),
    [
        (["127.0.0.1"], {"HTTP_X_FORWARDED_PREFIX": "/x", "REMOTE_ADDR": "10.9.9.9"}),
        (["*"], {"HTTP_X_FORWARDED_PREFIX": "x", "REMOTE_ADDR": "10.9.9.9"}),
        (["*"], {"REMOTE_ADDR": "10.9.9.9"}),
    ],
)
def test_a_prefix_from_anyone_else_or_not_a_path_is_ignored(trusted, environ):
    assert "SCRIPT_NAME" not in _serve_through_hook(trusted, environ)


# Tracing: the SDK set up by the hooks, as gunicorn calls them.


FakeLog = fake_gunicorn.FakeLog


def _hook_lines(server: types.SimpleNamespace) -> list[tuple[str, str]]:
    """What the tracing and logging hooks logged: the sizing and rolling-reload lines aside."""
    lines = server.log.lines
    return [line for line in lines if not line[1].startswith(("workers:", "rolling reload"))]


def _server_and_worker() -> tuple[types.SimpleNamespace, types.SimpleNamespace]:
    log = FakeLog()
    settings: dict[str, object] = {}
    cfg = types.SimpleNamespace(settings=settings, set=settings.__setitem__)
    server = types.SimpleNamespace(log=log, cfg=cfg)
    worker = types.SimpleNamespace(log=log, pid=4242)
    return server, worker


@pytest.fixture
def no_opentelemetry(monkeypatch):
    """A rock without OpenTelemetry: every import of it fails."""
    import sys

    for name in [name for name in sys.modules if name.split(".")[0] == "opentelemetry"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)


@pytest.fixture
def installed_providers(monkeypatch) -> list:
    """The providers the hooks make global: recorded, not set, so no other test sees one."""
    from opentelemetry import trace

    providers: list = []
    monkeypatch.setattr(trace, "set_tracer_provider", providers.append)
    return providers


class OtlpReceiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1: the requests it got, decoded."""

    def __init__(self) -> None:
        import http.server
        import threading

        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        self.requests: list[tuple[str, str, object]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                message = trace_service_pb2.ExportTraceServiceRequest()
                message.ParseFromString(body)
                content_type = self.headers.get("Content-Type", "")
                receiver.requests.append((self.path, content_type, message))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def otlp_receiver():
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


def _tracing_hooks() -> dict:
    return _namespace(gunicorn.render_config(config.WebserverConfig(), WORKLOAD, tracing=True))


def test_without_tracing_the_config_has_no_tracing_hooks():
    settings = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))

    assert not {"post_fork", "worker_exit", "access_log_format"} & set(settings)


def test_tracing_logs_the_request_id_the_client_or_ingress_sent():
    settings = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD, tracing=True))

    assert settings["access_log_format"].endswith('"%(a)s" %({x-request-id}i)s')


def test_each_worker_sends_its_spans_over_otlp_http_with_the_charms_resource(
    monkeypatch, otlp_receiver, installed_providers
):
    from opentelemetry.sdk import trace as sdk_trace

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_receiver.endpoint)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "flask-k8s")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "juju_model=prod,juju_unit=flask-k8s%2F0")
    hooks = _tracing_hooks()
    server, worker = _server_and_worker()

    hooks["on_starting"](server)
    hooks["post_fork"](server, worker)
    (provider,) = installed_providers
    with provider.get_tracer("test").start_as_current_span("GET /token"):
        pass
    # The span waits in the batch (5 s by default): the worker's exit sends it.
    assert otlp_receiver.requests == []
    hooks["worker_exit"](server, worker)

    assert isinstance(provider, sdk_trace.TracerProvider)
    assert _hook_lines(server) == []
    ((path, content_type, message),) = otlp_receiver.requests
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    (resource_spans,) = message.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "flask-k8s"
    assert resource["juju_model"] == "prod"
    assert resource["juju_unit"] == "flask-k8s/0"
    assert [span.name for span in resource_spans.scope_spans[0].spans] == ["GET /token"]


def test_without_the_sdk_tracing_is_off_with_one_log_line(no_opentelemetry):
    hooks = _tracing_hooks()
    server, worker = _server_and_worker()

    hooks["on_starting"](server)
    hooks["post_fork"](server, worker)
    hooks["worker_exit"](server, worker)

    ((level, line),) = _hook_lines(server)
    assert level == "warning"
    assert line.startswith("tracing is off: the OpenTelemetry SDK is not installed")
    assert "opentelemetry-sdk, opentelemetry-exporter-otlp-proto-http" in line
    assert "requirements.txt" in line


def test_a_reload_looks_for_the_sdk_again_and_reapplies_the_logging(no_opentelemetry):
    hooks = _tracing_hooks()
    server, _ = _server_and_worker()

    hooks["on_reload"](server)

    assert server.log.cfg is server.cfg
    assert server.log.setups == [server.cfg]
    assert [level for level, _ in _hook_lines(server)] == ["warning"]


def test_worker_exit_in_the_master_has_nothing_to_flush(installed_providers):
    # gunicorn also calls worker_exit in the master, for a worker that is already gone.
    hooks = _tracing_hooks()
    server, worker = _server_and_worker()
    hooks["on_starting"](server)

    hooks["worker_exit"](server, worker)

    assert installed_providers == []
    assert _hook_lines(server) == []


def test_a_failing_tracing_setup_leaves_the_worker_serving(installed_providers):
    hooks = _tracing_hooks()
    server, worker = _server_and_worker()
    hooks["on_starting"](server)

    def broken_exporter():
        raise ValueError("bad endpoint")

    hooks["_TRACING_SDK"]["exporter"] = broken_exporter

    hooks["post_fork"](server, worker)
    hooks["worker_exit"](server, worker)

    assert installed_providers == []
    assert _hook_lines(server) == [
        ("exception", "tracing is off in worker 4242: its setup failed")
    ]


def test_a_failing_logging_setup_on_reload_keeps_the_master_running():
    hooks = _namespace(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))
    server, _ = _server_and_worker()

    def broken_setup(cfg: object) -> None:
        raise RuntimeError("bad logconfig")

    server.log.setup = broken_setup

    hooks["on_reload"](server)

    assert _hook_lines(server) == [("exception", "could not apply the new logging settings")]


# JSON logs: the formatter on records as gunicorn and the app make them.

TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def _json_config() -> dict:
    return _namespace(
        gunicorn.render_config(config.WebserverConfig(), WORKLOAD, json_logging=True)
    )


def _record(level: int, message: str, *args: object, exc_info=None, name="gunicorn.error"):
    import logging

    return logging.LogRecord(name, level, __file__, 1, message, args, exc_info)


def test_json_logging_formats_both_logs_with_the_json_formatter():
    namespace = _json_config()

    formatters = namespace["logconfig_dict"]["formatters"]
    assert formatters == {
        "access": {"()": namespace["_JsonFormatter"]},
        "error": {"()": namespace["_JsonFormatter"]},
    }
    # The text config is untouched.
    text = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))
    assert text["logconfig_dict"]["formatters"]["access"] == {"format": "%(message)s"}


@pytest.mark.parametrize(
    ("level", "severity"),
    [(10, "DEBUG"), (20, "INFO"), (30, "WARN"), (40, "ERROR"), (50, "FATAL")],
)
def test_a_json_line_has_the_opentelemetry_log_fields(level, severity):
    import json
    import re

    formatter = _json_config()["_JsonFormatter"]()
    record = _record(level, "Booting worker with pid: %s", 12)
    record.created = 1700000000.1239

    line = json.loads(formatter.format(record))

    assert line == {
        "timestamp": "2023-11-14T22:13:20.123Z",
        "severityText": severity,
        "body": "Booting worker with pid: 12",
        "attributes": {"logger.name": "gunicorn.error", "process.pid": record.process},
    }
    assert re.fullmatch(TIMESTAMP, line["timestamp"])


def test_a_json_error_line_carries_the_exception():
    import json
    import sys

    formatter = _json_config()["_JsonFormatter"]()
    try:
        raise ConnectionRefusedError("[Errno 111] Connection refused")
    except ConnectionRefusedError:
        record = _record(40, "Error handling request", exc_info=sys.exc_info())

    text = formatter.format(record)

    assert "\n" not in text
    attributes = json.loads(text)["attributes"]
    assert attributes["exception.type"] == "ConnectionRefusedError"
    assert attributes["exception.message"] == "[Errno 111] Connection refused"
    assert attributes["exception.stacktrace"].startswith("Traceback (most recent call last):")
    assert attributes["exception.stacktrace"].endswith("Connection refused")


def test_a_json_line_names_a_non_builtin_exception_with_its_module():
    import json
    import sys

    formatter = _json_config()["_JsonFormatter"]()
    try:
        raise status.Blocked("broken")
    except status.Blocked:
        record = _record(40, "failed", exc_info=sys.exc_info(), name="flask.app")

    attributes = json.loads(formatter.format(record))["attributes"]

    assert attributes["exception.type"] == "flask_k8s._status.Blocked"
    assert attributes["logger.name"] == "flask.app"


def test_a_json_line_written_inside_a_span_has_its_ids():
    import json

    from opentelemetry.sdk import trace as sdk_trace

    formatter = _json_config()["_JsonFormatter"]()
    tracer = sdk_trace.TracerProvider().get_tracer("test")

    with tracer.start_as_current_span("GET /") as span:
        line = json.loads(formatter.format(_record(20, "inside", name="flask.app")))
    outside = json.loads(formatter.format(_record(20, "outside", name="flask.app")))

    assert line["traceId"] == f"{span.get_span_context().trace_id:032x}"
    assert line["spanId"] == f"{span.get_span_context().span_id:016x}"
    assert "traceId" not in outside
    assert "spanId" not in outside


@pytest.fixture
def gunicorn_logger(monkeypatch):
    """gunicorn's real Logger, its access log sent through the config's JSON formatter."""
    import io
    import logging

    import gunicorn.config as gunicorn_config
    from gunicorn import glogging

    for name in ("gunicorn.error", "gunicorn.access"):
        log = logging.getLogger(name)
        monkeypatch.setattr(log, "handlers", list(log.handlers))
    cfg = gunicorn_config.Config()
    cfg.set("accesslog", "-")
    logger = glogging.Logger(cfg)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_json_config()["_JsonFormatter"]())
    monkeypatch.setattr(logger.access_log, "handlers", [handler])
    return logger, stream


def _access_line(gunicorn_logger, environ: dict, headers: list[tuple[str, str]]) -> dict:
    import datetime
    import json

    logger, stream = gunicorn_logger
    response = types.SimpleNamespace(status="404 NOT FOUND", sent=9, headers=[])
    request = types.SimpleNamespace(headers=headers)
    logger.access(response, request, environ, datetime.timedelta(microseconds=2500))
    (line,) = stream.getvalue().splitlines()
    return json.loads(line)


def _environ(**extra: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/notes?page=2",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/notes",
        "QUERY_STRING": "page=2",
        "REMOTE_ADDR": "10.1.0.2",
        **extra,
    }


def test_a_json_access_line_has_the_request_fields(gunicorn_logger):
    import re

    environ = _environ(
        **{"flask_k8s.trace_id": "ab" * 16, "flask_k8s.span_id": "cd" * 8},
        PATH_INFO='/say "hi"',
    )

    line = _access_line(gunicorn_logger, environ, [("X-REQUEST-ID", 'req-"7"')])

    assert re.fullmatch(TIMESTAMP, line["timestamp"])
    assert line["severityText"] == "INFO"
    assert line["body"].startswith("10.1.0.2 - - [")
    assert '"GET /notes?page=2 HTTP/1.1" 404 9' in line["body"]
    assert line["traceId"] == "ab" * 16
    assert line["spanId"] == "cd" * 8
    attributes = line["attributes"]
    del attributes["process.pid"]
    assert attributes == {
        "logger.name": "gunicorn.access",
        "http.request.method": "GET",
        # gunicorn escapes the quotes of its text atoms; the JSON has the real values.
        "url.path": '/say "hi"',
        "http.response.status_code": 404,
        "duration_ms": 2.5,
        "url.query": "page=2",
        "client.address": "10.1.0.2",
        "http.request.header.x-request-id": 'req-"7"',
    }


def test_a_json_access_line_leaves_out_what_the_request_lacks(gunicorn_logger):
    environ = _environ(QUERY_STRING="")
    del environ["REMOTE_ADDR"]

    line = _access_line(gunicorn_logger, environ, [])

    assert "traceId" not in line
    assert "spanId" not in line
    assert not {"url.query", "client.address", "http.request.header.x-request-id"} & set(
        line["attributes"]
    )


def _instrumented_app(provider):
    import flask
    from opentelemetry.instrumentation import flask as flask_tracing

    app = flask.Flask("traced")

    @app.route("/hello")
    def hello():
        return {"script_name": flask.request.script_root}

    flask_tracing.FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    return app


def test_the_access_line_of_a_traced_request_has_its_span_ids(gunicorn_logger):
    from opentelemetry.sdk import trace as sdk_trace
    from opentelemetry.sdk.trace import export
    from opentelemetry.sdk.trace.export import in_memory_span_exporter
    from werkzeug import test as werkzeug_test

    spans = in_memory_span_exporter.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(spans))
    worker = types.SimpleNamespace(
        wsgi=_instrumented_app(provider),
        cfg=types.SimpleNamespace(forwarded_allow_ips=["10.1.0.2"]),
    )
    _json_config()["post_worker_init"](worker)
    environ = werkzeug_test.EnvironBuilder(
        path="/hello",
        headers=[("X-Forwarded-Prefix", "/prod-app")],
        environ_base={"REMOTE_ADDR": "10.1.0.2"},
    ).get_environ()
    environ["RAW_URI"] = "/hello"

    body = b"".join(worker.wsgi(environ, lambda status, headers, *exc_info: None))
    line = _access_line(gunicorn_logger, environ, [])

    # The ingress prefix wrapper is still in the chain.
    assert body == b'{"script_name":"/prod-app"}\n'
    (span,) = spans.get_finished_spans()
    assert span.name == "GET /hello"
    assert span.context is not None
    assert line["traceId"] == f"{span.context.trace_id:032x}"
    assert line["spanId"] == f"{span.context.span_id:016x}"


def test_json_logging_needs_no_opentelemetry(no_opentelemetry, gunicorn_logger):
    import json

    namespace = _json_config()
    formatter = namespace["_JsonFormatter"]()

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    worker = types.SimpleNamespace(wsgi=app, cfg=types.SimpleNamespace(forwarded_allow_ips=[]))
    namespace["post_worker_init"](worker)
    environ = _environ()
    assert worker.wsgi(environ, lambda *args: None) == [b"ok"]
    line = json.loads(formatter.format(_record(20, "served", name="flask.app")))

    assert "traceId" not in line
    assert not {"flask_k8s.trace_id", "flask_k8s.span_id"} & set(environ)


# gunicorn's own loading and Logger, in a child process (they configure the process's logging).
_RELOAD_SCRIPT = """
import datetime, sys, types
from gunicorn.app.wsgiapp import WSGIApplication

def load(path):
    sys.argv = ["gunicorn", "-c", path, "app:app"]
    return WSGIApplication().cfg

text_path, json_path = sys.argv[1:]
first = load(text_path)
log = first.logger_class(first)
log.info("before the reload")
second = load(json_path)
second.on_reload(types.SimpleNamespace(log=log, cfg=second))
log.info("after the reload")
environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/", "SERVER_PROTOCOL": "HTTP/1.1"}
response = types.SimpleNamespace(status="200 OK", sent=2, headers=[])
log.access(response, types.SimpleNamespace(headers=[]), environ, datetime.timedelta(0))
"""


def test_a_reload_switches_gunicorns_real_logger_to_json(tmp_path):
    import json
    import subprocess
    import sys

    workload = spec.WorkloadSpec(app_dir=str(tmp_path), statsd_host="127.0.0.1:9")
    paths = []
    for name, json_logging in (("text", False), ("json", True)):
        path = tmp_path / f"{name}.conf.py"
        text = gunicorn.render_config(
            config.WebserverConfig(), workload, json_logging=json_logging
        )
        path.write_text(text)
        paths.append(str(path))

    result = subprocess.run(
        [sys.executable, "-c", _RELOAD_SCRIPT, *paths],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    others = ("statsd", "workers:", "rolling reload")
    lines = [line for line in result.stdout.splitlines() if not any(o in line for o in others)]
    assert lines[0].endswith("[INFO] before the reload")
    after, access = (json.loads(line) for line in lines[1:])
    assert after["body"] == "after the reload"
    assert after["attributes"]["logger.name"] == "gunicorn.error"
    assert access["attributes"]["logger.name"] == "gunicorn.access"
    assert access["attributes"]["http.response.status_code"] == 200
