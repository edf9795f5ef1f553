"""The app's environment, computed from a CharmState alone."""

import typing

import pytest

from flask_k8s import _config as config
from flask_k8s import _environment as environment
from flask_k8s import _spec as spec
from flask_k8s import _state as state

WORKLOAD = spec.WorkloadSpec()


def _state(**kwargs: typing.Any) -> state.CharmState:
    values: dict[str, typing.Any] = {
        "app_name": "flask-k8s",
        "model_name": "test-model",
        "unit_name": "flask-k8s/0",
        "secret_key": "the-key",
    }
    values.update(kwargs)
    return state.CharmState(**values)


def test_minimal_environment_has_scheme_key_and_base_url_only():
    env = environment.build(_state(), WORKLOAD)

    assert env == {
        "FLASK_PREFERRED_URL_SCHEME": "HTTPS",
        "FLASK_SECRET_KEY": "the-key",
        "FLASK_BASE_URL": "http://flask-k8s.test-model:8000",
    }


def test_builtin_options_are_json_encoded():
    flask = config.FlaskConfig(
        env="staging",
        debug=True,
        permanent_session_lifetime=3600,
        application_root="/shop",
        session_cookie_secure=False,
        preferred_url_scheme="HTTP",
    )

    env = environment.build(_state(flask=flask), WORKLOAD)

    assert env["FLASK_ENV"] == "staging"
    assert env["FLASK_DEBUG"] == "true"
    assert env["FLASK_PERMANENT_SESSION_LIFETIME"] == "3600"
    assert env["FLASK_APPLICATION_ROOT"] == "/shop"
    assert env["FLASK_SESSION_COOKIE_SECURE"] == "false"
    assert env["FLASK_PREFERRED_URL_SCHEME"] == "HTTP"


@pytest.mark.parametrize(
    "name",
    [
        "FLASK_ENV",
        "FLASK_DEBUG",
        "FLASK_PERMANENT_SESSION_LIFETIME",
        "FLASK_APPLICATION_ROOT",
        "FLASK_SESSION_COOKIE_SECURE",
        "FLASK_PEER_FQDNS",
        "HTTP_PROXY",
    ],
)
def test_unset_options_are_absent(name):
    assert name not in environment.build(_state(), WORKLOAD)


def test_webserver_options_are_never_exported():
    webserver = config.WebserverConfig(workers=3, threads=2, timeout=5, keepalive=1)

    env = environment.build(_state(webserver=webserver), WORKLOAD)

    assert not [name for name in env if "WORKERS" in name or "WEBSERVER" in name]


def test_base_url_uses_app_model_and_port():
    env = environment.build(
        _state(app_name="shop", model_name="prod"), spec.WorkloadSpec(port=8080)
    )

    assert env["FLASK_BASE_URL"] == "http://shop.prod:8080"


def test_peer_fqdns_are_comma_joined_in_order():
    fqdns = (
        "flask-k8s-1.flask-k8s-endpoints.test-model.svc.cluster.local",
        "flask-k8s-2.flask-k8s-endpoints.test-model.svc.cluster.local",
    )

    env = environment.build(_state(peer_fqdns=fqdns), WORKLOAD)

    assert env["FLASK_PEER_FQDNS"] == (
        "flask-k8s-1.flask-k8s-endpoints.test-model.svc.cluster.local,"
        "flask-k8s-2.flask-k8s-endpoints.test-model.svc.cluster.local"
    )


def test_proxy_variables_are_passed_through():
    proxies = {"HTTP_PROXY": "http://proxy:3128", "http_proxy": "http://proxy:3128"}

    env = environment.build(_state(proxy_env=proxies), WORKLOAD)

    assert env["HTTP_PROXY"] == "http://proxy:3128"
    assert env["http_proxy"] == "http://proxy:3128"


def test_user_options_are_exported():
    env = environment.build(_state(user_env={"FLASK_TOKEN": "abc"}), WORKLOAD)

    assert env["FLASK_TOKEN"] == "abc"


@pytest.mark.parametrize(
    ("variable", "builtin"),
    [
        ("FLASK_SECRET_KEY", "the-key"),
        ("FLASK_PREFERRED_URL_SCHEME", "HTTPS"),
        ("FLASK_BASE_URL", "http://flask-k8s.test-model:8000"),
    ],
)
def test_user_options_never_override_builtin_variables(variable, builtin):
    env = environment.build(_state(user_env={variable: "from-user"}), WORKLOAD)

    assert env[variable] == builtin


def test_user_option_cannot_override_a_set_builtin_option():
    flask = config.FlaskConfig(env="production")

    env = environment.build(_state(flask=flask, user_env={"FLASK_ENV": "dev"}), WORKLOAD)

    assert env["FLASK_ENV"] == "production"


def test_another_prefix_is_used_throughout():
    env = environment.build(
        _state(user_env={"APP_TOKEN": "x"}), spec.WorkloadSpec(env_prefix="APP_")
    )

    assert set(env) == {"APP_TOKEN", "APP_PREFERRED_URL_SCHEME", "APP_SECRET_KEY", "APP_BASE_URL"}


def test_unit_fqdn_is_the_units_name_behind_the_headless_service():
    assert state.unit_fqdn("flask-k8s/3", "prod") == (
        "flask-k8s-3.flask-k8s-endpoints.prod.svc.cluster.local"
    )


def test_charm_state_mappings_are_read_only():
    charm_state = _state(user_env={"FLASK_TOKEN": "abc"})

    with pytest.raises(TypeError):
        charm_state.user_env["FLASK_TOKEN"] = "changed"  # type: ignore[index]
