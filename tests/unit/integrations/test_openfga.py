"""openfga: a store named after the app is asked for; its id, token and URLs become FGA_*."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import openfga
from tests.unit.integrations import helpers
from tests.unit.integrations.providers import openfga as provider

TOKEN = "fga-t0k:en/#"


def context() -> relation.Context:
    return relation.Context(
        endpoint="openfga", interface="openfga", app_name="flask-k8s", model_name="test-model"
    )


def environment(
    app: typing.Mapping[str, typing.Any], secrets: typing.Mapping[str, typing.Any] | None = None
) -> dict[str, str]:
    data = relation.RemoteData(relation_id=1, app=app)
    return openfga.environment(context(), data, helpers.reader(secrets or {}))


def test_the_request_names_the_store_after_the_app():
    assert openfga.request(context(), {}) == {"store_name": "flask-k8s"}


def test_the_providers_answer_becomes_every_fga_variable():
    answer = provider.answer(openfga.request(context(), {}))

    env = environment(answer.app, answer.secrets)

    assert env == {
        "FGA_STORE_ID": provider.store_id("flask-k8s"),
        "FGA_TOKEN": TOKEN,
        "FGA_GRPC_API_URL": "openfga.test-model.svc.cluster.local:8081",
        "FGA_HTTP_API_URL": "http://openfga.test-model.svc.cluster.local:8080",
    }


def test_a_plain_token_is_read_when_the_provider_has_no_secrets():
    answer = provider.answer(openfga.request(context(), {}), use_secrets=False)
    assert not answer.secrets

    assert environment(answer.app)["FGA_TOKEN"] == TOKEN


def test_the_secret_token_wins_over_a_plain_one():
    answer = provider.answer(openfga.request(context(), {}))

    assert environment({**answer.app, "token": "stale"}, answer.secrets)["FGA_TOKEN"] == TOKEN


def test_each_variable_is_set_only_when_the_provider_sent_it():
    assert environment({"store_id": "01GK13VYZK62Q1T0X55Q2BHYD6", "http_api_url": ""}) == {
        "FGA_STORE_ID": "01GK13VYZK62Q1T0X55Q2BHYD6"
    }


@pytest.mark.parametrize(
    "app", [{}, {"store_id": ""}, {"http_api_url": "http://openfga:8080", "token": "t"}]
)
def test_no_store_yet_is_waited_for(app):
    with pytest.raises(relation.NotReady):
        environment(app)


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ({"store_id": 7}, "store_id is not text"),
        ({"store_id": "s", "token": ["t"]}, "token is not text"),
        ({"store_id": "s", "http_api_url": {"url": "x"}}, "http_api_url is not text"),
        ({"store_id": "s", "token_secret_id": 1}, "token_secret_id is not a secret URI"),
        (
            {"store_id": "s", "token_secret_id": "secret:gone"},
            "the secret in token_secret_id cannot be read (unknown, revoked or not granted)",
        ),
    ],
)
def test_an_unusable_answer_says_which_field_to_fix(app, message):
    with pytest.raises(relation.InvalidData) as invalid:
        environment(app)

    assert invalid.value.message == message


def test_a_token_secret_without_its_key_is_named_without_its_content():
    secrets = {"secret:t": {"value": "hunter2-secret"}}

    with pytest.raises(relation.InvalidData) as invalid:
        environment({"store_id": "s", "token_secret_id": "secret:t"}, secrets)

    assert invalid.value.message == "the secret in token_secret_id has no 'token' key"


FIELDS = ("store_id", "token", "token_secret_id", "grpc_api_url", "http_api_url")
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["secret:t", " ", ""]),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    app=st.dictionaries(st.sampled_from(FIELDS), VALUES),
    content=st.one_of(st.none(), st.dictionaries(st.text(max_size=9), st.text(max_size=5))),
)
def test_any_databag_gives_variables_or_a_status_never_a_crash(app, content):
    secrets = {} if content is None else {"secret:t": content}
    try:
        env = environment(app, secrets)
    except (relation.NotReady, relation.InvalidData):
        return
    assert all(isinstance(value, str) and value for value in env.values())
    assert "FGA_STORE_ID" in env


# Through the charm, against the provider model.


def test_two_sided_the_store_reaches_the_flask_service(ctx, charm_state):
    created = testing.Relation("openfga")
    out = ctx.run(ctx.on.relation_created(created), charm_state(created))
    request = dict(out.get_relation(created.id).local_app_data)

    answer = provider.answer(request)
    out = helpers.answer_through_charm(ctx, charm_state, created, answer)

    env = helpers.flask_env(out)
    assert env["FGA_STORE_ID"] == provider.store_id("flask-k8s")
    assert env["FGA_TOKEN"] == TOKEN
    assert env["FGA_HTTP_API_URL"] == "http://openfga.test-model.svc.cluster.local:8080"
    assert out.unit_status == testing.ActiveStatus()


def test_the_request_is_written_once_and_kept_across_hooks(ctx, charm_state):
    rel = testing.Relation("openfga")

    first = ctx.run(ctx.on.relation_created(rel), charm_state(rel))
    again = ctx.run(ctx.on.relation_changed(first.get_relation(rel.id), remote_unit=0), first)

    assert first.get_relation(rel.id).local_app_data == {"store_name": "flask-k8s"}
    assert again.get_relation(rel.id).local_app_data == {"store_name": "flask-k8s"}


def test_only_the_leader_writes_the_request(ctx, charm_state):
    rel = testing.Relation("openfga")

    out = ctx.run(
        ctx.on.relation_created(rel), dataclasses.replace(charm_state(rel), leader=False)
    )

    assert out.get_relation(rel.id).local_app_data == {}


def test_a_store_not_yet_created_waits_with_the_app_running(ctx, charm_state):
    rel = testing.Relation("openfga", local_app_data={"store_name": "flask-k8s"})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel))

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: openfga")
    assert "FGA_STORE_ID" not in helpers.flask_env(out)
    assert out.get_container("flask-app").service_statuses["flask"].value == "active"


def test_an_unusable_answer_blocks_without_showing_the_token(ctx, charm_state):
    token = testing.Secret({"value": "hunter2-secret"}, owner=None)
    rel = testing.Relation(
        "openfga", remote_app_data={"store_id": "s1", "token_secret_id": token.id or ""}
    )

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel, secrets=[token]))

    assert out.unit_status == testing.BlockedStatus(
        "openfga relation: the secret in token_secret_id has no 'token' key"
    )
