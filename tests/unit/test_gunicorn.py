"""gunicorn: the rendered config file and the service command rewrites."""

import shlex
import types

import pytest

from flask_k8s import config, gunicorn, spec, status

WORKLOAD = spec.WorkloadSpec()
ROCK_COMMAND = "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py 'app:app' -k [ sync ]"


def _execute(text: str) -> dict:
    namespace: dict = {}
    exec(compile(text, "gunicorn.conf.py", "exec"), namespace)  # noqa: S102
    namespace.pop("__builtins__", None)
    return namespace


def test_rendered_config_is_python_with_the_fixed_settings():
    settings = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))

    assert settings["bind"] == ["0.0.0.0:8000"]
    assert settings["chdir"] == "/flask/app"
    assert settings["accesslog"] == "-"
    assert settings["errorlog"] == "-"
    assert settings["statsd_host"] == "localhost:9125"


def test_unset_tunables_are_left_to_gunicorn():
    settings = _execute(gunicorn.render_config(config.WebserverConfig(), WORKLOAD))

    assert not {"workers", "threads", "timeout", "keepalive"} & set(settings)


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


def test_a_hostile_string_cannot_inject_code():
    hostile = "/app'\nimport os\nraise SystemExit('injected')\nx = '"
    hostile_host = '"; injected = True; "\\\n'
    workload = spec.WorkloadSpec(app_dir=hostile, statsd_host=hostile_host)

    settings = _execute(gunicorn.render_config(config.WebserverConfig(), workload))

    assert settings["chdir"] == hostile
    assert settings["statsd_host"] == hostile_host
    assert set(settings) == {
        "bind",
        "chdir",
        "accesslog",
        "errorlog",
        "logconfig_dict",
        "statsd_host",
        "post_worker_init",
    }


def test_a_non_integer_tunable_is_refused_rather_than_written():
    webserver = config.WebserverConfig(workers="2\nimport os")  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="invalid literal"):
        gunicorn.render_config(webserver, WORKLOAD)


def test_gunicorn_accepts_every_rendered_setting(tmp_path):
    import gunicorn.config as gunicorn_config

    # gunicorn checks that chdir exists: the app directory is a temporary one here.
    workload = spec.WorkloadSpec(app_dir=str(tmp_path))
    webserver = config.WebserverConfig(workers=2, threads=4, timeout=30, keepalive=2)
    cfg = gunicorn_config.Config()

    for name, value in _execute(gunicorn.render_config(webserver, workload)).items():
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
