"""valkey: valkey-k8s's v0 answer becomes VALKEY_DB_* (and paas-charm's VALKEY_MODE/VERSION)."""

import dataclasses
import json

import pytest
from ops import testing

import flask_k8s
from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import valkey
from tests.unit import conftest
from tests.unit.integrations.providers import valkey as provider

CONTEXT = relation.Context(
    endpoint="valkey", interface="valkey_client", app_name="flask-k8s", model_name="test-model"
)
PASSWORD = "p@ss:w/rd?#% x"
ENCODED = "p%40ss%3Aw%2Frd%3F%23%25%20x"
SECRETS = {
    "secret:user": {"username": "relation-7", "password": PASSWORD},
    "secret:tls": {"tls": "false"},
}
ANSWER = {
    "database": "*",
    "endpoints": "valkey-0.valkey-endpoints:6379",
    "read-only-endpoints": "valkey-1.valkey-endpoints:6379, valkey-2.valkey-endpoints:6379",
    "sentinel-endpoints": "valkey-0.valkey-endpoints:26379,valkey-1.valkey-endpoints:26379",
    "mode": "sentinel",
    "version": "9.0.1",
    "secret-user": "secret:user",
    "secret-tls": "secret:tls",
}


def _env(app, context=CONTEXT, secrets=SECRETS) -> dict[str, str]:
    def read(uri: str) -> dict[str, str]:
        try:
            return secrets[uri]
        except KeyError:
            raise relation.SecretUnavailable(uri) from None

    return valkey.environment(context, relation.RemoteData(relation_id=1, app=app), read)


def test_the_primary_with_encoded_credentials_and_the_other_endpoints():
    assert _env(ANSWER) == {
        "VALKEY_DB_CONNECT_STRING": f"valkey://relation-7:{ENCODED}@valkey-0.valkey-endpoints:6379",
        "VALKEY_DB_SCHEME": "valkey",
        "VALKEY_DB_NETLOC": f"relation-7:{ENCODED}@valkey-0.valkey-endpoints:6379",
        "VALKEY_DB_PATH": "",
        "VALKEY_DB_PARAMS": "",
        "VALKEY_DB_QUERY": "",
        "VALKEY_DB_FRAGMENT": "",
        "VALKEY_DB_USERNAME": "relation-7",
        "VALKEY_DB_PASSWORD": PASSWORD,
        "VALKEY_DB_HOSTNAME": "valkey-0.valkey-endpoints",
        "VALKEY_DB_PORT": "6379",
        "VALKEY_DB_READ_ONLY_ENDPOINTS": (
            "valkey-1.valkey-endpoints:6379,valkey-2.valkey-endpoints:6379"
        ),
        "VALKEY_DB_SENTINEL_ENDPOINTS": (
            "valkey-0.valkey-endpoints:26379,valkey-1.valkey-endpoints:26379"
        ),
        "VALKEY_DB_MODE": "sentinel",
        "VALKEY_DB_VERSION": "9.0.1",
        "VALKEY_MODE": "sentinel",
        "VALKEY_VERSION": "9.0.1",
    }


@pytest.mark.parametrize("tls", ["true", "True"])
def test_tls_gives_the_valkeys_scheme_and_the_ca(tls):
    secrets = {**SECRETS, "secret:tls": {"tls": tls, "tls-ca": "CA-PEM"}}

    env = _env(ANSWER, secrets=secrets)

    assert env["VALKEY_DB_SCHEME"] == "valkeys"
    assert env["VALKEY_DB_CONNECT_STRING"].startswith("valkeys://relation-7:")
    assert env["VALKEY_DB_TLS_CA"] == "CA-PEM"


def test_without_tls_there_is_no_ca_variable():
    assert "VALKEY_DB_TLS_CA" not in _env(ANSWER)


def test_the_spec_spelling_of_sentinel_endpoints_is_read_too():
    app = {key: value for key, value in ANSWER.items() if key != "sentinel-endpoints"}

    env = _env({**app, "sentinel_endpoints": "valkey-0.valkey-endpoints:26379"})

    assert env["VALKEY_DB_SENTINEL_ENDPOINTS"] == "valkey-0.valkey-endpoints:26379"


def test_plain_text_credentials_work_without_secrets():
    app = {"endpoints": "valkey-0:6379", "username": "u", "password": "pw", "tls": "false"}

    env = _env(app)

    assert env["VALKEY_DB_CONNECT_STRING"] == "valkey://u:pw@valkey-0:6379"


def test_an_endpoint_written_with_a_scheme_is_taken_without_it():
    env = _env({**ANSWER, "endpoints": "valkey://valkey-0.valkey-endpoints:6379"})

    assert env["VALKEY_DB_NETLOC"].endswith("@valkey-0.valkey-endpoints:6379")


def test_fields_not_sent_are_empty_as_in_paas_charm():
    app = {"endpoints": "valkey-0:6379", "secret-user": "secret:user"}

    env = _env(app)

    for name in ("READ_ONLY_ENDPOINTS", "SENTINEL_ENDPOINTS", "MODE", "VERSION"):
        assert env[f"VALKEY_DB_{name}"] == ""
    assert env["VALKEY_MODE"] == env["VALKEY_VERSION"] == ""


def test_the_prefix_follows_the_endpoint_name():
    env = _env(ANSWER, flask_k8s.replace(CONTEXT, endpoint="cache"))

    assert env["CACHE_DB_HOSTNAME"] == "valkey-0.valkey-endpoints"
    assert env["CACHE_MODE"] == "sentinel"


def test_the_request_asks_for_every_key_with_secrets():
    request = valkey.request(CONTEXT, {})

    assert request["database"] == "*"
    assert json.loads(request["requested-secrets"]) == ["username", "password", "tls", "tls-ca"]


@pytest.mark.parametrize(
    "app",
    [
        {},
        {"database": "*"},
        {"endpoints": "valkey-0:6379"},
        {"secret-user": "secret:user"},
        {"endpoints": "valkey-0:6379", "username": "u"},
        {"endpoints": 6379, "secret-user": "secret:user"},
    ],
)
def test_waits_until_endpoints_and_credentials_are_sent(app):
    with pytest.raises(relation.NotReady):
        _env(app)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret-user": "secret:unknown"}, "secret-user cannot be read"),
        ({"secret-tls": "secret:unknown"}, "secret-tls cannot be read"),
        ({"endpoints": ","}, "endpoints holds no host:port"),
        ({"endpoints": "valkey-0:port"}, "invalid port"),
        ({"endpoints": "valkey-0:²"}, "invalid port"),
        ({"read-only-endpoints": "valkey-1:99999"}, "invalid port"),
        ({"sentinel-endpoints": ":26379"}, "has no host"),
        ({"tls": "maybe", "secret-tls": ""}, "tls is neither true nor false"),
    ],
)
def test_an_unusable_answer_is_invalid(change, message):
    with pytest.raises(relation.InvalidData, match=message) as error:
        _env({**ANSWER, **change})

    assert PASSWORD not in error.value.message


def test_a_secret_with_no_content_is_invalid():
    def read(uri: str):
        return None

    data = relation.RemoteData(relation_id=1, app=ANSWER)
    with pytest.raises(relation.InvalidData, match="has no content"):
        valkey.environment(CONTEXT, data, read)  # type: ignore[arg-type]


# Through the charm.


def _env_of(out: testing.State) -> dict[str, str]:
    return conftest.flask_env(out)


def _related(state, app, secrets=()) -> tuple[testing.State, testing.Relation]:
    rel = testing.Relation("valkey", remote_app_name="valkey", remote_app_data=app)
    return (
        dataclasses.replace(
            state, relations={*state.relations, rel}, secrets={*state.secrets, *secrets}
        ),
        rel,
    )


def _user_secret(password: str = PASSWORD) -> testing.Secret:
    content = {"username": "relation-7", "password": password}
    return testing.Secret(content, id="secret:user", owner=None)


def test_the_flask_service_gets_the_variables(ctx, state):
    tls = testing.Secret({"tls": "false"}, id="secret:tls", owner=None)
    state, rel = _related(state, ANSWER, [_user_secret(), tls])

    out = ctx.run(ctx.on.relation_changed(rel), state)

    env = _env_of(out)
    assert out.unit_status == testing.ActiveStatus()
    assert env["VALKEY_DB_PASSWORD"] == PASSWORD
    assert env["VALKEY_MODE"] == "sentinel"


def test_the_leader_requests_every_key(ctx, state):
    state, rel = _related(state, {})

    out = ctx.run(ctx.on.relation_created(rel), state)

    assert out.get_relation(rel.id).local_app_data == valkey.request(CONTEXT, {})


def test_a_follower_writes_no_request(ctx, state):
    state, rel = _related(dataclasses.replace(state, leader=False), {})

    out = ctx.run(ctx.on.relation_created(rel), state)

    assert out.get_relation(rel.id).local_app_data == {}


def test_an_answer_without_credentials_yet_waits(ctx, state):
    state, rel = _related(state, {"endpoints": "valkey-0:6379"})

    out = ctx.run(ctx.on.relation_changed(rel), state)

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: valkey")


def test_an_unusable_answer_blocks_without_the_secret(ctx, state):
    tls = testing.Secret({"tls": PASSWORD}, id="secret:tls", owner=None)
    state, rel = _related(state, ANSWER, [_user_secret(), tls])

    out = ctx.run(ctx.on.relation_changed(rel), state)

    assert out.unit_status == testing.BlockedStatus(
        "valkey relation: tls is neither true nor false"
    )


def test_an_unreadable_secret_blocks(ctx, state):
    state, rel = _related(state, ANSWER)

    out = ctx.run(ctx.on.relation_changed(rel), state)

    assert out.unit_status == testing.BlockedStatus(
        "valkey relation: the secret in secret-user cannot be read "
        "(unknown, revoked or not granted)"
    )


@pytest.mark.parametrize(
    ("tls", "sentinel_field", "scheme"),
    [(False, "sentinel-endpoints", "valkey"), (True, "sentinel_endpoints", "valkeys")],
)
def test_protocol_with_the_provider_model(ctx, state, tls, sentinel_field, scheme):
    state, rel = _related(state, {})
    created = ctx.run(ctx.on.relation_created(rel), state)
    request = created.get_relation(rel.id).local_app_data

    app, _, secrets = provider.answer(request, tls=tls, sentinel_field=sentinel_field)
    answered = dataclasses.replace(created.get_relation(rel.id), remote_app_data=app)
    others = {other for other in created.relations if other.id != rel.id}
    given = {testing.Secret(content, id=uri, owner=None) for uri, content in secrets.items()}
    out = ctx.run(
        ctx.on.relation_changed(answered),
        dataclasses.replace(
            created, relations={*others, answered}, secrets={*created.secrets, *given}
        ),
    )

    env = _env_of(out)
    assert app["secret-user"] == provider.USER_SECRET  # The credentials came as a secret.
    assert env["VALKEY_DB_CONNECT_STRING"] == (
        f"{scheme}://relation-7:valkey-Pw-7xQ2@valkey-0.valkey-endpoints:6379"
    )
    assert env["VALKEY_DB_SENTINEL_ENDPOINTS"].count(":26379") == 3
    assert ("VALKEY_DB_TLS_CA" in env) == tls
