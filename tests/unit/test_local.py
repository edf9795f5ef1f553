"""The local runner's pure parts: the rock layout, its state and its command line.

Starting a real Pebble is covered by tests/integration, which drive the same module.
"""

from __future__ import annotations

import os
import pathlib
import pwd

import pytest

from flask_k8s import _config as config
from flask_k8s import _spec as spec
from flask_k8s import _status as status
from flask_k8s import local


def test_rock_layer_is_the_flask_framework_layer_with_local_paths(tmp_path):
    rock = local.Rock(prefix=tmp_path)

    layer = rock.layer(worker_class="gevent", wsgi="app:create_app()")

    flask = layer["services"]["flask"]
    assert flask["command"] == (
        f"{tmp_path}/rock/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py "
        "'app:create_app()' -k [ gevent ]"
    )
    assert flask["user"] == "_daemon_"
    assert flask["after"] == ["statsd-exporter"]
    exporter = layer["services"]["statsd-exporter"]
    assert exporter["override"] == "merge"
    assert f"--statsd.mapping-config={tmp_path}/rock/statsd-mapping.conf" in exporter["command"]


def test_rock_reports_what_setup_has_not_installed(tmp_path, monkeypatch):
    def no_user(name):
        raise KeyError(name)

    monkeypatch.setattr(pwd, "getpwnam", no_user)
    rock = local.Rock(prefix=tmp_path)

    assert rock.missing() == [
        str(rock.python),
        str(rock.exporter),
        str(rock.mapping),
        str(rock.pebble),
        "user _daemon_",
    ]


def test_rock_is_complete_once_everything_is_there(tmp_path, monkeypatch):
    monkeypatch.setattr(pwd, "getpwnam", lambda name: pwd.getpwuid(os.getuid()))
    rock = local.Rock(prefix=tmp_path)
    for path in (rock.python, rock.exporter, rock.mapping, rock.pebble):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    assert rock.missing() == []


def test_install_app_lays_out_a_fresh_container(tmp_path, monkeypatch):
    me = pwd.getpwuid(os.getuid())
    monkeypatch.setattr(pwd, "getpwnam", lambda name: me)
    source = tmp_path / "source"
    source.mkdir()
    (source / "app.py").write_text("app = None\n")
    (source / "__pycache__").mkdir()
    workload = spec.WorkloadSpec(
        base_dir=str(tmp_path / "flask"),
        app_dir=str(tmp_path / "flask" / "app"),
        state_dir=str(tmp_path / "state"),
    )
    (tmp_path / "flask" / "app").mkdir(parents=True)
    (tmp_path / "flask" / "app" / "stale.py").write_text("")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "rock-services.json").write_text("{}")

    local.install_app(source, workload)

    app_dir = tmp_path / "flask" / "app"
    assert sorted(path.name for path in app_dir.iterdir()) == ["app.py"]
    assert pathlib.Path(workload.gunicorn_config_path).read_text() == local.ROCK_GUNICORN_CONFIG
    assert not (tmp_path / "state").exists()


def test_local_state_validates_like_the_charm():
    with pytest.raises(status.Blocked) as blocked:
        local.local_state({"flask-preferred-url-scheme": "ftp"}, "k" * 86)

    assert blocked.value.message == (
        "invalid config: flask-preferred-url-scheme must be HTTP or HTTPS"
    )


def test_local_state_reads_the_charm_options_and_the_given_key():
    state = local.local_state({"token": "abc"}, "k" * 86, environ={"JUJU_CHARM_NO_PROXY": "x"})

    assert state.user_env == {"FLASK_TOKEN": "abc"}
    assert state.secret_key == "k" * 86
    assert state.proxy_env == {"NO_PROXY": "x", "no_proxy": "x"}
    assert state.base_url(8000) == "http://flask-k8s.local:8000"


def test_local_state_cannot_read_juju_secrets():
    options = {"api-creds": config.OptionMeta(name="api-creds", type="secret")}

    with pytest.raises(status.Blocked) as blocked:
        local.local_state({"api-creds": "secret:abc"}, "k" * 86, options=options)

    assert blocked.value.message == (
        "invalid config: api-creds is a Juju secret; not available locally"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("true", True), ("1.5", 1.5), ("abc", "abc"), ("[1]", "[1]"), ("", "")],
)
def test_command_line_values_are_typed_like_juju_config(text, value):
    assert local._parse_value(text) == value


def test_main_says_what_to_install_when_setup_has_not_run(tmp_path, capsys):
    assert local.main(["--prefix", str(tmp_path), "--once", "token=abc"]) == 2

    assert "run `make setup`" in capsys.readouterr().err


def test_options_come_from_the_charm_directory_with_their_defaults(tmp_path, monkeypatch):
    # A charm author runs their own charm's options, wherever the library is installed.
    (tmp_path / "charmcraft.yaml").write_text(
        "config:\n"
        "  options:\n"
        "    greeting: {type: string, default: hello}\n"
        "    retries: {type: int, default: 3}\n"
        "    flask-preferred-url-scheme: {type: string, default: HTTP}\n"
        "    api-url: {type: string}\n"
    )
    monkeypatch.chdir(tmp_path)

    options = config.load_options(tmp_path)
    values = local.config_values(options, ["api-url=https://api", "retries=5"])
    state = local.local_state(values, "k" * 86)

    assert values == {
        "greeting": "hello",
        "retries": 5,
        "flask-preferred-url-scheme": "HTTP",
        "api-url": "https://api",
    }
    assert state.user_env == {
        "FLASK_GREETING": "hello",
        "FLASK_RETRIES": "5",
        "FLASK_API_URL": "https://api",
    }
    assert state.flask.preferred_url_scheme == "HTTP"


def test_main_reads_the_charm_directory_it_is_given_with_its_paas_config(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "charmcraft.yaml").write_text(
        "config:\n  options:\n    api-url: {type: string, optional: false}\n"
    )
    (tmp_path / "paas-config.yaml").write_text("framework_logging_format: json\n")
    seen = {}

    def fake_state(values, key, options=None, **kwargs):
        seen.update(values=values, options=options, **kwargs)
        raise status.Blocked("stop here")

    monkeypatch.setattr(local, "local_state", fake_state)
    monkeypatch.setattr(local.Rock, "missing", lambda self: [])
    monkeypatch.setattr(local, "install_app", lambda app: None)
    monkeypatch.setattr(local.Pebble, "start", lambda self, log=None: None)
    monkeypatch.setattr(local.Pebble, "stop", lambda self: None)

    assert local.main(["--charm-dir", str(tmp_path), "--once"]) == 1

    assert set(seen["options"]) == {"api-url"}
    assert seen["json_logging"] is True
