"""The charm maps config, secrets, peers and proxies to the app's environment."""

import dataclasses

import ops
import pytest
from ops import testing

from tests.unit import conftest

ACTIVE = ops.pebble.ServiceStatus.ACTIVE
INACTIVE = ops.pebble.ServiceStatus.INACTIVE


def _env(out: testing.State, service: str = "flask") -> dict[str, str]:
    if service == "flask":
        return conftest.flask_env(out)
    return dict(out.get_container("flask-app").plan.services[service].environment)


def _with_config(state: testing.State, **options) -> testing.State:
    return dataclasses.replace(
        state, config={name.replace("_", "-"): value for name, value in options.items()}
    )


def test_ready_leader_is_active_with_the_env_on_the_flask_service(ctx, state, key_secret):
    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert out.app_status == testing.ActiveStatus()
    assert _env(out) == {
        "FLASK_PREFERRED_URL_SCHEME": "HTTPS",
        "FLASK_SECRET_KEY": key_secret.tracked_content["value"],
        "FLASK_BASE_URL": "http://flask-k8s.test-model:8000",
        # The oidc endpoint's options have defaults, so the app always gets them.
        "FLASK_OIDC_REDIRECT_PATH": "/callback",
        "FLASK_OIDC_SCOPES": "openid profile email",
    }
    assert out.get_container("flask-app").service_statuses == {
        "flask": ACTIVE,
        "statsd-exporter": ACTIVE,
    }
    assert out.opened_ports == {testing.TCPPort(8000)}


def test_the_rock_service_definition_is_kept(ctx, state, workload):
    out = ctx.run(ctx.on.config_changed(), state)

    flask = out.get_container("flask-app").plan.services["flask"]
    assert flask.command == workload.flask_command
    assert flask.user == "_daemon_"
    assert flask.after == ["statsd-exporter"]
    assert flask.startup == "enabled"


def test_builtin_options_become_json_encoded_variables(ctx, state):
    state = _with_config(
        state,
        flask_env="staging",
        flask_debug=True,
        flask_permanent_session_lifetime=3600,
        flask_application_root="/shop",
        flask_session_cookie_secure=False,
        flask_preferred_url_scheme="http",
    )

    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert env["FLASK_ENV"] == "staging"
    assert env["FLASK_DEBUG"] == "true"
    assert env["FLASK_PERMANENT_SESSION_LIFETIME"] == "3600"
    assert env["FLASK_APPLICATION_ROOT"] == "/shop"
    assert env["FLASK_SESSION_COOKIE_SECURE"] == "false"
    assert env["FLASK_PREFERRED_URL_SCHEME"] == "HTTP"


def test_webserver_options_are_not_exported(ctx, state):
    state = _with_config(state, webserver_workers=3, webserver_timeout=10)

    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert not [name for name in env if "WORKERS" in name or "TIMEOUT" in name]


def test_token_option_becomes_flask_token(ctx, state):
    env = _env(ctx.run(ctx.on.config_changed(), _with_config(state, token="abc-123")))

    assert env["FLASK_TOKEN"] == "abc-123"


def test_unset_user_option_is_absent(ctx, state):
    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert "FLASK_TOKEN" not in env


def test_user_options_are_discovered_from_the_charms_metadata(make_ctx, state):
    ctx = make_ctx(
        {
            "my-int": {"type": "int"},
            "my-float": {"type": "float"},
            "my-bool": {"type": "boolean"},
            "greeting": {"type": "string", "default": "hello"},
        }
    )
    state = dataclasses.replace(state, config={"my-int": 3, "my-float": 1.5, "my-bool": False})

    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert env["FLASK_MY_INT"] == "3"
    assert env["FLASK_MY_FLOAT"] == "1.5"
    assert env["FLASK_MY_BOOL"] == "false"
    assert env["FLASK_GREETING"] == "hello"


def test_peer_units_are_listed_by_fqdn_in_unit_order(ctx, state, peers):
    peers = dataclasses.replace(peers, peers_data={10: {}, 2: {}})
    state = dataclasses.replace(state, relations={peers})

    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert env["FLASK_PEER_FQDNS"] == (
        "flask-k8s-2.flask-k8s-endpoints.test-model.svc.cluster.local,"
        "flask-k8s-10.flask-k8s-endpoints.test-model.svc.cluster.local"
    )


def test_single_unit_has_no_peer_fqdns(ctx, state):
    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert "FLASK_PEER_FQDNS" not in env


def test_model_proxy_settings_become_upper_and_lower_case_variables(ctx, state, monkeypatch):
    monkeypatch.setenv("JUJU_CHARM_HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("JUJU_CHARM_HTTPS_PROXY", "http://proxy.internal:3129")
    monkeypatch.setenv("JUJU_CHARM_NO_PROXY", "10.0.0.0/8,.svc")

    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert env["HTTP_PROXY"] == env["http_proxy"] == "http://proxy.internal:3128"
    assert env["HTTPS_PROXY"] == env["https_proxy"] == "http://proxy.internal:3129"
    assert env["NO_PROXY"] == env["no_proxy"] == "10.0.0.0/8,.svc"


def test_only_the_proxy_settings_that_are_set_are_exported(ctx, state, monkeypatch):
    monkeypatch.setenv("JUJU_CHARM_HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("JUJU_CHARM_HTTPS_PROXY", "")
    monkeypatch.delenv("JUJU_CHARM_NO_PROXY", raising=False)

    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert env["HTTP_PROXY"] == "http://proxy.internal:3128"
    assert not {"HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"} & set(env)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"flask-env": ""}, "flask-env"),
        ({"flask-application-root": "shop"}, "flask-application-root"),
        ({"flask-permanent-session-lifetime": 0}, "flask-permanent-session-lifetime"),
        ({"flask-preferred-url-scheme": "ftp"}, "flask-preferred-url-scheme"),
        ({"flask-secret-key": "  "}, "flask-secret-key"),
        ({"webserver-workers": 0}, "webserver-workers"),
        ({"webserver-threads": -2}, "webserver-threads"),
        ({"webserver-timeout": -1}, "webserver-timeout"),
        ({"webserver-keepalive": -1}, "webserver-keepalive"),
        ({"webserver-worker-class": "eventlet"}, "webserver-worker-class"),
    ],
)
def test_each_bad_builtin_value_blocks_naming_the_option(ctx, state, options, named):
    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, config=options))

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert out.unit_status.message.startswith("invalid config: ")
    assert named in out.unit_status.message
    assert "flask-k8s" not in out.get_container("flask-app").layers


def test_bad_preferred_url_scheme_states_the_rule(ctx, state):
    state = dataclasses.replace(state, config={"flask-preferred-url-scheme": "ftp"})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "invalid config: flask-preferred-url-scheme must be HTTP or HTTPS"
    )


def test_all_bad_values_are_named_at_once(ctx, state):
    state = dataclasses.replace(
        state, config={"flask-preferred-url-scheme": "ftp", "webserver-workers": 0}
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert "flask-preferred-url-scheme" in out.unit_status.message
    assert "webserver-workers" in out.unit_status.message


def test_a_bad_value_keeps_the_last_good_settings_serving(make_ctx, state):
    first, second = make_ctx(), make_ctx()
    good = first.run(first.on.config_changed(), _with_config(state, token="v1"))

    out = second.run(
        second.on.config_changed(),
        dataclasses.replace(good, config={"token": "v2", "webserver-workers": 0}),
    )

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert _env(out)["FLASK_TOKEN"] == "v1"
    assert out.get_container("flask-app").service_statuses["flask"] == ACTIVE


REQUIRED = {
    "required-opt": {"type": "string", "optional": False},
    "other-required": {"type": "int", "optional": False},
}


def test_missing_required_option_blocks_and_stops_app(make_ctx, workload, state):
    container = workload.container(service_statuses={"flask": ACTIVE, "statsd-exporter": ACTIVE})
    state = dataclasses.replace(state, containers={container})
    ctx = make_ctx(REQUIRED)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("missing config: other-required, required-opt")
    statuses = out.get_container("flask-app").service_statuses
    assert statuses["flask"] == INACTIVE
    assert statuses["statsd-exporter"] == ACTIVE


def test_missing_required_option_stops_workers_too(make_ctx, workload, state):
    container = workload.container(
        services={
            "celery-worker": {"override": "replace", "command": "celery", "startup": "enabled"}
        },
        service_statuses={"flask": ACTIVE, "celery-worker": ACTIVE, "statsd-exporter": ACTIVE},
    )
    ctx = make_ctx(REQUIRED)

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    statuses = out.get_container("flask-app").service_statuses
    assert statuses["celery-worker"] == INACTIVE
    assert statuses["statsd-exporter"] == ACTIVE


def test_missing_and_invalid_options_are_both_reported(make_ctx, state):
    ctx = make_ctx(REQUIRED)
    state = dataclasses.replace(
        state, config={"required-opt": "x", "flask-preferred-url-scheme": "ftp"}
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "missing config: other-required; "
        "invalid config: flask-preferred-url-scheme must be HTTP or HTTPS"
    )


def test_missing_required_option_without_pebble_still_blocks(make_ctx, workload, state):
    ctx = make_ctx(REQUIRED)
    state = dataclasses.replace(state, containers={workload.container(can_connect=False)})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("missing config: other-required, required-opt")


def test_required_options_once_set_start_the_app(make_ctx, state):
    ctx = make_ctx(REQUIRED)
    state = dataclasses.replace(state, config={"required-opt": "x", "other-required": 0})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert _env(out)["FLASK_REQUIRED_OPT"] == "x"
    assert _env(out)["FLASK_OTHER_REQUIRED"] == "0"


def test_a_user_option_that_would_set_a_builtin_variable_blocks(make_ctx, state):
    ctx = make_ctx({"secret-key": {"type": "string"}, "base-url": {"type": "string"}})
    state = dataclasses.replace(state, config={"secret-key": "mine", "base-url": "http://x"})

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert "secret-key would set FLASK_SECRET_KEY" in out.unit_status.message
    assert "base-url would set FLASK_BASE_URL" in out.unit_status.message


SECRET_OPTION = {"api-creds": {"type": "secret"}}


def test_secret_option_gives_one_variable_per_key(make_ctx, state):
    creds = testing.Secret({"user-name": "alice", "pass-word": "pw-8Jd3kQ"})
    state = dataclasses.replace(
        state, config={"api-creds": creds.id}, secrets={*state.secrets, creds}
    )
    ctx = make_ctx(SECRET_OPTION)

    env = _env(ctx.run(ctx.on.config_changed(), state))

    assert env["FLASK_API_CREDS_USER_NAME"] == "alice"
    assert env["FLASK_API_CREDS_PASS_WORD"] == "pw-8Jd3kQ"
    assert "FLASK_API_CREDS" not in env


def test_secret_option_follows_the_latest_revision(make_ctx, state):
    creds = testing.Secret(
        {"token": "old-token-value"}, latest_content={"token": "new-token-value"}
    )
    state = dataclasses.replace(
        state, config={"api-creds": creds.id}, secrets={*state.secrets, creds}
    )
    ctx = make_ctx(SECRET_OPTION)

    env = _env(ctx.run(ctx.on.secret_changed(creds), state))

    assert env["FLASK_API_CREDS_TOKEN"] == "new-token-value"


def test_secret_option_not_found_blocks_naming_the_option(make_ctx, state):
    not_granted = testing.Secret({"token": "x"})  # in the model, but not visible to the app
    ctx = make_ctx(SECRET_OPTION)

    out = ctx.run(
        ctx.on.config_changed(), dataclasses.replace(state, config={"api-creds": not_granted.id})
    )

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert "api-creds" in out.unit_status.message
    assert "grant-secret" in out.unit_status.message


def test_secret_option_without_permission_blocks_naming_the_option(make_ctx, state, monkeypatch):
    creds = testing.Secret({"token": "x"})
    state = dataclasses.replace(
        state, config={"api-creds": creds.id}, secrets={*state.secrets, creds}
    )
    original = ops.Secret.get_content

    def get_content(self, *, refresh=False):
        if self.id == creds.id:
            raise ops.ModelError("ERROR permission denied")
        return original(self, refresh=refresh)

    monkeypatch.setattr(ops.Secret, "get_content", get_content)
    ctx = make_ctx(SECRET_OPTION)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "invalid config: secret of api-creds is not granted; run "
        "`juju grant-secret <secret> flask-k8s`"
    )


@pytest.mark.parametrize(
    "content",
    [
        {"1st-key": "x"},
        {"user-name": "a", "user_name": "b"},
    ],
)
def test_secret_option_with_unusable_keys_blocks_naming_the_option(make_ctx, state, content):
    creds = testing.Secret(content)
    state = dataclasses.replace(
        state, config={"api-creds": creds.id}, secrets={*state.secrets, creds}
    )
    ctx = make_ctx(SECRET_OPTION)

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert "secret of api-creds" in out.unit_status.message


def test_empty_secret_option_blocks_naming_the_option(make_ctx, state, monkeypatch):
    creds = testing.Secret({"token": "x"})
    state = dataclasses.replace(
        state, config={"api-creds": creds.id}, secrets={*state.secrets, creds}
    )
    original = ops.Secret.get_content
    monkeypatch.setattr(
        ops.Secret,
        "get_content",
        lambda self, *, refresh=False: (
            {} if self.id == creds.id else original(self, refresh=refresh)
        ),
    )
    ctx = make_ctx(SECRET_OPTION)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("invalid config: secret of api-creds is empty")


def test_no_hook_error_for_any_bad_input(make_ctx, workload, state):
    ctx = make_ctx({**REQUIRED, **SECRET_OPTION})
    missing_secret = testing.Secret({"x": "y"})
    state = dataclasses.replace(
        state,
        containers={workload.container(can_connect=False)},
        config={
            "api-creds": missing_secret.id,
            "flask-secret-key": "a",
            "flask-secret-key-id": missing_secret.id,
            "webserver-worker-class": "nope",
        },
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
