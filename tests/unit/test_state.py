"""state.build: config, option metadata and secrets validated into one CharmState."""

import typing

import pytest

from flask_k8s import _config as config
from flask_k8s import _state as state
from flask_k8s import _status as status

OPTIONS = {
    "token": config.OptionMeta("token", "string"),
    "api-creds": config.OptionMeta("api-creds", "secret"),
    "flask-env": config.OptionMeta("flask-env", "string"),
    "webserver-workers": config.OptionMeta("webserver-workers", "int"),
}
SECRETS = {
    "secret:creds": {"user-name": "alice", "pass-word": "pw-1234"},
    "secret:key": {"value": "key-from-secret"},
}


def _read_secret(option: str, secret_id: str) -> dict[str, str]:
    if secret_id not in SECRETS:
        raise status.Blocked(f"invalid config: secret of {option} not found")
    return SECRETS[secret_id]


def _build(
    values: dict,
    options: dict[str, config.OptionMeta] | None = None,
    generated: str | None = "generated-key",
    **kwargs: typing.Any,
) -> state.CharmState:
    unit = {name: kwargs.pop(name) for name in ("is_leader", "peer_units") if name in kwargs}
    reads = {
        name: kwargs.pop(name)
        for name in ("generated_fallbacks", "previous_keys", "integrations")
        if name in kwargs
    }
    return state.build(
        values=values,
        options=OPTIONS if options is None else options,
        unit=state.Unit(app_name="flask-k8s", model_name="m", unit_name="flask-k8s/0", **unit),
        reads=state.Reads(
            read_secret=_read_secret, generated_secret_key=lambda: generated, **reads
        ),
        **kwargs,
    )


def test_defaults_use_the_generated_key():
    charm_state = _build({})

    assert charm_state.secret_key == "generated-key"
    assert charm_state.user_env == {}
    assert charm_state.proxy_env == {}
    assert charm_state.peer_fqdns == ()
    assert charm_state.secret_values == ("generated-key",)


def test_user_options_become_prefixed_variables_but_builtins_do_not():
    charm_state = _build({"token": "abc", "flask-env": "dev", "webserver-workers": 2})

    assert charm_state.user_env == {"FLASK_TOKEN": "abc"}
    assert charm_state.flask.env == "dev"
    assert charm_state.webserver.workers == 2


def test_values_of_undeclared_options_are_ignored():
    assert _build({"undeclared": "x"}).user_env == {}


def test_secret_option_expands_per_key_and_its_values_are_secret():
    charm_state = _build({"api-creds": "secret:creds"})

    assert charm_state.user_env == {
        "FLASK_API_CREDS_USER_NAME": "alice",
        "FLASK_API_CREDS_PASS_WORD": "pw-1234",
    }
    assert {"alice", "pw-1234"} <= set(charm_state.secret_values)


def test_unreadable_secret_option_is_reported_as_invalid():
    with pytest.raises(status.Blocked) as raised:
        _build({"api-creds": "secret:nope"})

    assert raised.value.message == "invalid config: secret of api-creds not found"
    assert not isinstance(raised.value, status.Missing)


def test_secret_key_option_wins_and_is_secret():
    charm_state = _build({"flask-secret-key": "from-config"})

    assert charm_state.secret_key == "from-config"
    assert "from-config" in charm_state.secret_values


def test_secret_key_id_option_wins():
    charm_state = _build({"flask-secret-key-id": "secret:key"})

    assert charm_state.secret_key == "key-from-secret"


def test_secret_key_id_secret_not_found_is_invalid():
    with pytest.raises(status.Blocked, match="secret of flask-secret-key-id not found"):
        _build({"flask-secret-key-id": "secret:missing"})


def test_without_any_key_the_unit_waits():
    with pytest.raises(status.Waiting, match="waiting for the leader to create the secret key"):
        _build({}, generated=None)


def test_missing_required_option_raises_missing():
    options = {"required-opt": config.OptionMeta("required-opt", "string", optional=False)}

    with pytest.raises(status.Missing, match=r"^missing config: required-opt$"):
        _build({}, options=options)


def test_missing_is_raised_before_waiting_for_the_key():
    options = {"required-opt": config.OptionMeta("required-opt", "string", optional=False)}

    with pytest.raises(status.Missing):
        _build({}, options=options, generated=None)


def test_a_user_option_may_not_set_a_builtin_variable():
    options = {"debug": config.OptionMeta("debug", "boolean")}

    with pytest.raises(status.Blocked) as raised:
        _build({"debug": True}, options=options)

    assert raised.value.message == (
        "invalid config: debug would set FLASK_DEBUG, which flask-k8s sets itself; "
        "rename the option"
    )


def test_peers_and_proxies_are_read():
    charm_state = _build(
        {},
        peer_units=["flask-k8s/1"],
        environ={"JUJU_CHARM_NO_PROXY": "localhost"},
        is_leader=False,
    )

    assert charm_state.peer_fqdns == ("flask-k8s-1.flask-k8s-endpoints.m.svc.cluster.local",)
    assert charm_state.proxy_env == {"NO_PROXY": "localhost", "no_proxy": "localhost"}
    assert charm_state.is_leader is False


def test_base_url_names_the_app_in_its_model():
    assert _build({}).base_url(8000) == "http://flask-k8s.m:8000"
