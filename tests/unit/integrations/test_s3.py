"""s3: s3-integrator's v0 or v1 answer becomes S3_*; the v1 request is sent."""

import dataclasses
import json

import pytest
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import s3
from tests.unit import conftest
from tests.unit.integrations.providers import s3 as provider

CONTEXT = relation.Context(
    endpoint="s3", interface="s3", app_name="flask-k8s", model_name="test-model"
)
SECRET_KEY = " s3cr3t/Key+@:?#% x "
CHAIN = ["-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----"]
V1_ANSWER = {
    "lib-version": "1.0",
    "bucket": "flask-k8s",
    "secret-extra": "secret:keys",
    "endpoint": "https://s3.example.com",
    "region": "eu-west-1",
    "path": "uploads/",
    "s3-uri-style": "host",
    "s3-api-version": "4",
    "storage-class": "STANDARD",
    "tls-ca-chain": json.dumps(CHAIN),
    "attributes": json.dumps(["a=1", "b=2"]),
}
KEYS = {"access-key": "AKIAEXAMPLE", "secret-key": SECRET_KEY}
V0_ANSWER = {"bucket": "flask-k8s", **KEYS}


def _env(app, secrets=None) -> dict[str, str]:
    secrets = {"secret:keys": KEYS} if secrets is None else secrets

    def read(uri: str) -> dict[str, str]:
        try:
            return secrets[uri]
        except KeyError:
            raise relation.SecretUnavailable(uri) from None

    return s3.environment(CONTEXT, relation.RemoteData(relation_id=1, app=app), read)


def test_a_v1_answer_gives_every_variable():
    assert _env(V1_ANSWER) == {
        "S3_ACCESS_KEY": "AKIAEXAMPLE",
        "S3_SECRET_KEY": SECRET_KEY,
        "S3_BUCKET": "flask-k8s",
        "S3_ENDPOINT": "https://s3.example.com",
        "S3_REGION": "eu-west-1",
        "S3_PATH": "uploads/",
        "S3_URI_STYLE": "host",
        "S3_ADDRESSING_STYLE": "virtual",
        "S3_API_VERSION": "4",
        "S3_STORAGE_CLASS": "STANDARD",
        "S3_TLS_CA_CHAIN": json.dumps(CHAIN),
        "S3_ATTRIBUTES": json.dumps(["a=1", "b=2"]),
    }


def test_a_v0_answer_in_plain_text_gives_the_keys():
    env = _env(V0_ANSWER, secrets={})

    assert env == {
        "S3_ACCESS_KEY": "AKIAEXAMPLE",
        "S3_SECRET_KEY": SECRET_KEY,
        "S3_BUCKET": "flask-k8s",
    }


def test_the_secret_overlays_plain_keys():
    env = _env({**V0_ANSWER, "secret-key": "stale", "secret-extra": "secret:keys"})

    assert env["S3_SECRET_KEY"] == SECRET_KEY


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("s3-api-version", "S3_API_VERSION"),
        ("region", "S3_REGION"),
        ("storage-class", "S3_STORAGE_CLASS"),
        ("path", "S3_PATH"),
        ("bucket", "S3_BUCKET"),
    ],
)
def test_numeric_looking_values_stay_text(field, variable):
    env = _env({**V0_ANSWER, field: "2"}, secrets={})

    assert env[variable] == "2"


def test_the_tls_chain_does_not_need_attributes():
    env = _env({**V0_ANSWER, "tls-ca-chain": json.dumps(CHAIN)}, secrets={})

    assert json.loads(env["S3_TLS_CA_CHAIN"]) == CHAIN
    assert "S3_ATTRIBUTES" not in env


@pytest.mark.parametrize(("style", "addressing"), [("host", "virtual"), ("path", "path")])
def test_the_addressing_style_follows_the_uri_style(style, addressing):
    env = _env({**V0_ANSWER, "s3-uri-style": style}, secrets={})

    assert env["S3_ADDRESSING_STYLE"] == addressing


def test_the_request_is_v1_with_the_app_name_as_bucket():
    request = s3.request(CONTEXT, {})

    assert request == {
        "bucket": "flask-k8s",
        "requested-secrets": '["access-key", "secret-key"]',
        "lib-version": "1.0",
    }


@pytest.mark.parametrize(
    "app",
    [
        {},
        {"lib-version": "1.0"},
        {"bucket": "b", "access-key": "a"},
        {"bucket": "b", "secret-key": "s"},
        {"access-key": "a", "secret-key": "s"},
        {"bucket": " ", "access-key": "a", "secret-key": "s"},
        {"bucket": "b", "access-key": "a", "secret-key": ""},
    ],
)
def test_waits_until_bucket_and_keys_are_sent(app):
    with pytest.raises(relation.NotReady):
        _env(app, secrets={})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tls-ca-chain": "-----BEGIN CERT"}, "tls-ca-chain is not valid JSON"),
        ({"tls-ca-chain": json.dumps("pem")}, "tls-ca-chain must be a JSON list"),
        ({"tls-ca-chain": "[1, 2]"}, "tls-ca-chain must be a JSON list of strings"),
        ({"attributes": "a=1"}, "attributes is not valid JSON"),
        ({"attributes": '{"a": 1}'}, "attributes must be a JSON list"),
        ({"region": 42}, "region is not text"),
        ({"secret-key": 42}, "secret-key is not text"),
        ({"secret-extra": "secret:unknown"}, "secret-extra cannot be read"),
    ],
)
def test_an_unusable_answer_is_invalid(change, message):
    with pytest.raises(relation.InvalidData, match=message) as error:
        _env({**V0_ANSWER, **change}, secrets={})

    assert SECRET_KEY.strip() not in error.value.message


# Through the charm.


def _env_of(out: testing.State) -> dict[str, str]:
    return conftest.flask_env(out)


def _related(state, app, secrets=()) -> tuple[testing.State, testing.Relation]:
    rel = testing.Relation("s3", remote_app_name="s3-integrator", remote_app_data=app)
    return (
        dataclasses.replace(
            state, relations={*state.relations, rel}, secrets={*state.secrets, *secrets}
        ),
        rel,
    )


def _keys_secret() -> testing.Secret:
    return testing.Secret(KEYS, id="secret:keys", owner=None)


def test_the_flask_service_gets_the_variables(ctx, state):
    state, rel = _related(state, V1_ANSWER, [_keys_secret()])

    out = ctx.run(ctx.on.relation_changed(rel), state)

    env = _env_of(out)
    assert out.unit_status == testing.ActiveStatus()
    assert env["S3_SECRET_KEY"] == SECRET_KEY
    assert env["S3_API_VERSION"] == "4"


def test_the_leader_sends_the_v1_request(ctx, state):
    state, rel = _related(state, {})

    out = ctx.run(ctx.on.relation_created(rel), state)

    assert out.get_relation(rel.id).local_app_data == s3.request(CONTEXT, {})


def test_a_follower_writes_no_request(ctx, state):
    state, rel = _related(dataclasses.replace(state, leader=False), {})

    out = ctx.run(ctx.on.relation_created(rel), state)

    assert out.get_relation(rel.id).local_app_data == {}


def test_a_provider_that_has_only_said_hello_waits(ctx, state):
    state, rel = _related(state, {"lib-version": "1.0"})

    out = ctx.run(ctx.on.relation_changed(rel), state)

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: s3")


def test_an_unusable_answer_blocks_without_the_secret(ctx, state):
    state, rel = _related(state, {**V1_ANSWER, "tls-ca-chain": "not json"}, [_keys_secret()])

    out = ctx.run(ctx.on.relation_changed(rel), state)

    assert out.unit_status == testing.BlockedStatus("s3 relation: tls-ca-chain is not valid JSON")
    assert SECRET_KEY.strip() not in out.unit_status.message


@pytest.mark.parametrize(
    ("version", "configured_bucket", "bucket"),
    [(1, None, "flask-k8s"), (1, "shared-bucket", "shared-bucket"), (0, None, "flask-k8s")],
)
def test_protocol_with_the_provider_model(ctx, state, version, configured_bucket, bucket):
    state, rel = _related(state, {})
    created = ctx.run(ctx.on.relation_created(rel), state)
    request = created.get_relation(rel.id).local_app_data

    app, _, secrets = provider.answer(
        request, version=version, configured_bucket=configured_bucket
    )
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
    assert ("secret-extra" in app) == (version == 1)  # v1 keeps the keys in a secret.
    assert env["S3_BUCKET"] == bucket
    assert env["S3_ACCESS_KEY"] == provider.ACCESS_KEY
    assert env["S3_SECRET_KEY"] == provider.SECRET_KEY
    assert env["S3_API_VERSION"] == "4"
    assert json.loads(env["S3_TLS_CA_CHAIN"]) == json.loads(provider.SETTINGS["tls-ca-chain"])


def test_a_v1_provider_given_a_v0_request_answers_in_plain_text():
    app, _, secrets = provider.answer({"bucket": "flask-k8s"})

    env = _env(app, secrets=secrets)

    assert secrets == {}
    assert env["S3_BUCKET"] == "configured-bucket"
    assert env["S3_SECRET_KEY"] == provider.SECRET_KEY
