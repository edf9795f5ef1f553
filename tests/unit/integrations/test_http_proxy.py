"""http_proxy: one proxy request under a stable id; a ready answer becomes the proxy variables."""

from __future__ import annotations

import dataclasses
import json
import typing
import urllib.parse
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import http_proxy
from tests.unit.integrations import helpers
from tests.unit.integrations.providers import http_proxy as provider

PASSWORD = "pr0xy:p@ss/#%"
OLD_ID = "0b6a3bd4-7b5c-4d6f-9a2e-3f1c8e2d7a55"


def context(app_name: str = "flask-k8s", model_name: str = "test-model") -> relation.Context:
    return relation.Context(
        endpoint="http-proxy", interface="http_proxy", app_name=app_name, model_name=model_name
    )


def environment(
    app: typing.Mapping[str, typing.Any],
    secrets: typing.Mapping[str, typing.Any] | None = None,
    local_app: typing.Mapping[str, str] | None = None,
) -> dict[str, str]:
    if local_app is None:
        local_app = http_proxy.request(context(), {})
    data = relation.RemoteData(relation_id=1, app=app, local_app=local_app)
    return http_proxy.environment(context(), data, helpers.reader(secrets or {}))


def our_id() -> str:
    return json.loads(http_proxy.request(context(), {})["requests"])[0]["requirer"]


def responses(*items: dict[str, typing.Any]) -> dict[str, str]:
    return {"responses": json.dumps(list(items))}


def test_the_request_asks_for_no_domains_or_auth_with_sorted_keys():
    request = http_proxy.request(context(), {})

    assert request == {
        "requests": f'[{{"auth": [], "domains": [], "requirer": "{our_id()}"}}]',
    }
    assert uuid.UUID(our_id()).version == 5


def test_the_id_is_the_same_on_every_hook_and_differs_between_apps():
    ids = {
        json.loads(http_proxy.request(ctx, {})["requests"])[0]["requirer"]
        for ctx in (context(), context(), context(app_name="other"), context(model_name="m2"))
    }

    assert len(ids) == 3


def test_an_id_already_in_the_databag_is_kept():
    old = {"requests": json.dumps([{"requirer": OLD_ID, "domains": ["x:80"], "auth": ["srcip"]}])}

    request = http_proxy.request(context(), old)

    assert json.loads(request["requests"]) == [{"auth": [], "domains": [], "requirer": OLD_ID}]


@pytest.mark.parametrize(
    "requests",
    ["not json", "{}", "[]", "[1]", '[{"requirer": 5}]', '[{"requirer": " "}]', "[" * 100_000],
)
def test_a_databag_without_a_usable_id_gets_the_derived_one(requests):
    request = http_proxy.request(context(), {"requests": requests})

    assert json.loads(request["requests"])[0]["requirer"] == our_id()


def test_a_ready_answer_with_a_user_gives_the_credentials_percent_encoded():
    answer = provider.answer(http_proxy.request(context(), {}), password=PASSWORD)

    env = environment(answer.app, answer.secrets)

    url = f"http://u-{our_id()[:8]}:pr0xy%3Ap%40ss%2F%23%25@squid.internal:3128"
    assert env == {"HTTP_PROXY": url, "http_proxy": url, "HTTPS_PROXY": url, "https_proxy": url}
    parsed = urllib.parse.urlsplit(url)
    assert urllib.parse.unquote(parsed.password or "") == PASSWORD
    assert parsed.hostname == "squid.internal"
    assert parsed.port == 3128


def test_a_ready_answer_without_a_user_gives_the_urls_as_sent():
    answer = provider.answer(http_proxy.request(context(), {}), auth="srcip")
    assert not answer.secrets

    assert environment(answer.app)["HTTPS_PROXY"] == "http://squid.internal:3128"


def test_credentials_written_into_the_url_by_the_provider_are_replaced():
    response = {
        "requirer": our_id(),
        "status": "ready",
        "http_proxy": "http://raw:pw@squid:3128",
        "user": "secret:u",
    }

    env = environment(responses(response), {"secret:u": {"username": "u", "password": "p w"}})

    assert env["http_proxy"] == "http://u:p%20w@squid:3128"


def test_each_variable_is_set_only_when_sent():
    response = {"requirer": our_id(), "status": "ready", "https_proxy": "http://squid:3129"}

    assert environment(responses(response)) == {
        "HTTPS_PROXY": "http://squid:3129",
        "https_proxy": "http://squid:3129",
    }


def test_our_response_is_found_among_others_by_its_id():
    others = {"requirer": "someone-else", "status": "rejected"}
    ours = {"requirer": our_id(), "status": "ready", "http_proxy": "http://squid:3128"}

    assert environment(responses(others, ours))["HTTP_PROXY"] == "http://squid:3128"


def test_a_non_leader_finds_the_answer_to_an_id_it_cannot_read():
    # The leader kept an earlier charm's id; non-leaders cannot read our databag.
    answer = provider.answer(
        {"requests": json.dumps([{"requirer": OLD_ID, "domains": [], "auth": []}])}
    )

    env = environment(answer.app, answer.secrets, local_app={})

    assert env["HTTP_PROXY"].startswith(f"http://u-{OLD_ID[:8]}:")


def test_a_non_leader_does_not_guess_among_several_foreign_answers():
    one = {"requirer": "a", "status": "ready", "http_proxy": "http://a:1"}
    two = {"requirer": "b", "status": "ready", "http_proxy": "http://b:1"}

    with pytest.raises(relation.NotReady):
        environment(responses(one, two), local_app={})


@pytest.mark.parametrize(
    "app",
    [
        {},
        {"responses": ""},
        responses(),
        responses({"requirer": "someone-else", "status": "ready", "http_proxy": "http://x:1"}),
        responses({"requirer": our_id(), "status": "pending"}),
        responses({"requirer": our_id(), "status": "accepted"}),
    ],
)
def test_an_unanswered_or_pending_request_is_waited_for(app):
    with pytest.raises(relation.NotReady):
        environment(app)


@pytest.mark.parametrize("status", ["rejected", "invalid", "unsupported", "error"])
def test_a_refused_request_is_invalid_data_naming_the_status(status):
    with pytest.raises(relation.InvalidData) as invalid:
        environment(responses({"requirer": our_id(), "status": status}))

    assert invalid.value.message == (
        f"the provider answered the proxy request with status {status}; "
        "check the provider's domains and authentication settings"
    )


READY = {"requirer": our_id(), "status": "ready"}


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ({"responses": "not json"}, "responses is not a JSON list"),
        ({"responses": '{"requirer": "x"}'}, "responses is not a JSON list"),
        ({"responses": "[" * 100_000}, "responses is not a JSON list"),
        (responses({"requirer": our_id()}), "the response to the proxy request has no status"),
        (responses({**READY, "status": 1}), "the response to the proxy request has no status"),
        (responses({**READY, "status": "done"}), "unknown status 'done' of the proxy request"),
        (
            responses(READY),
            "the ready proxy response has neither http_proxy nor https_proxy",
        ),
        (responses({**READY, "http_proxy": 3128}), "http_proxy is not text"),
        (
            responses({**READY, "http_proxy": "squid.internal:3128"}),
            "http_proxy is not a proxy URL (scheme://host:port)",
        ),
        (
            responses({**READY, "https_proxy": "http://squid:port"}),
            "https_proxy is not a proxy URL (scheme://host:port)",
        ),
        (
            responses({**READY, "https_proxy": "http://[::1:3128"}),
            "https_proxy is not a proxy URL (scheme://host:port)",
        ),
        (
            responses({**READY, "http_proxy": "http://s:1", "user": ["x"]}),
            "user is not a secret URI",
        ),
        (
            responses({**READY, "http_proxy": "http://s:1", "user": "secret:gone"}),
            "the secret in user cannot be read (unknown, revoked or not granted)",
        ),
        (
            responses({**READY, "http_proxy": "http://s:1", "user": "secret:half"}),
            "the secret in user has no username and password",
        ),
    ],
)
def test_an_unusable_answer_says_what_is_wrong(app, message):
    secrets = {"secret:half": {"username": "u", "pass": PASSWORD}}

    with pytest.raises(relation.InvalidData) as invalid:
        environment(app, secrets)

    assert invalid.value.message == message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
RESPONSE = st.fixed_dictionaries(
    {},
    optional={
        "requirer": st.sampled_from([our_id(), "other"]) | JSON,
        "status": st.sampled_from(["ready", "pending", "error", "bogus", ""]) | JSON,
        "http_proxy": st.sampled_from(["http://s:1", "s:1", "http://s:x", "http://[::1"]) | JSON,
        "https_proxy": st.sampled_from(["https://u:p@s:1", ""]) | JSON,
        "user": st.sampled_from(["secret:u", "secret:gone"]) | JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(RESPONSE | JSON, max_size=3),
    raw=st.one_of(st.none(), st.text(max_size=10)),
    content=st.dictionaries(st.sampled_from(["username", "password", "x"]), st.text(max_size=5)),
    leader=st.booleans(),
)
def test_any_databag_gives_variables_or_a_status_never_a_crash(items, raw, content, leader):
    app = {"responses": json.dumps(items)} if raw is None else {"responses": raw}
    local_app = None if leader else {}
    try:
        env = environment(app, {"secret:u": content}, local_app=local_app)
    except (relation.NotReady, relation.InvalidData):
        return
    assert env
    assert all(isinstance(value, str) and "://" in value for value in env.values())
    assert set(env) <= {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"}


# Through the charm, against the provider model.


def answered(
    ctx: testing.Context, charm_state: typing.Callable[..., testing.State], **kwargs: str
) -> tuple[testing.Relation, list[testing.Secret], testing.State]:
    """Our request, answered by the provider model; the relation, its secrets, the output."""
    created = testing.Relation("http-proxy")
    out = ctx.run(ctx.on.relation_created(created), charm_state(created))
    answer = provider.answer(dict(out.get_relation(created.id).local_app_data), **kwargs)
    secrets = [
        testing.Secret(content, id=uri, owner=None) for uri, content in answer.secrets.items()
    ]
    rel = dataclasses.replace(
        created,
        local_app_data=out.get_relation(created.id).local_app_data,
        remote_app_data=answer.app,
    )
    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel, secrets=secrets))
    return rel, secrets, out


def test_two_sided_a_ready_proxy_with_a_user_reaches_the_flask_service(ctx, charm_state):
    _, _, out = answered(ctx, charm_state, password=PASSWORD)

    env = helpers.flask_env(out)
    url = f"http://u-{our_id()[:8]}:pr0xy%3Ap%40ss%2F%23%25@squid.internal:3128"
    assert env["HTTP_PROXY"] == env["http_proxy"] == url
    assert env["HTTPS_PROXY"] == env["https_proxy"] == url
    assert out.unit_status == testing.ActiveStatus()


def test_the_relation_replaces_the_models_proxy_but_not_its_no_proxy(
    ctx, charm_state, monkeypatch
):
    monkeypatch.setenv("JUJU_CHARM_HTTP_PROXY", "http://model-proxy:3128")
    monkeypatch.setenv("JUJU_CHARM_HTTPS_PROXY", "http://model-proxy:3129")
    monkeypatch.setenv("JUJU_CHARM_NO_PROXY", "10.0.0.0/8,.svc")

    _, _, out = answered(ctx, charm_state, auth="srcip")

    env = helpers.flask_env(out)
    assert env["HTTP_PROXY"] == env["http_proxy"] == "http://squid.internal:3128"
    assert env["HTTPS_PROXY"] == env["https_proxy"] == "http://squid.internal:3128"
    assert env["NO_PROXY"] == env["no_proxy"] == "10.0.0.0/8,.svc"


def test_the_request_is_kept_across_hooks(ctx, charm_state):
    rel, _, out = answered(ctx, charm_state)
    before = dict(out.get_relation(rel.id).local_app_data)

    again = ctx.run(ctx.on.update_status(), out)
    fresh = testing.Relation("http-proxy")
    elsewhere = ctx.run(ctx.on.relation_created(fresh), charm_state(fresh))

    assert json.loads(before["requests"])[0]["requirer"] == our_id()
    assert again.get_relation(rel.id).local_app_data == before
    assert elsewhere.get_relation(fresh.id).local_app_data == before


def test_the_leader_keeps_an_id_written_by_an_earlier_charm(ctx, charm_state):
    old = json.dumps([{"auth": [], "domains": [], "requirer": OLD_ID}], sort_keys=True)
    rel = testing.Relation("http-proxy", local_app_data={"requests": old})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel))

    assert out.get_relation(rel.id).local_app_data == {"requests": old}


def test_a_non_leader_writes_nothing_but_uses_the_answer(ctx, charm_state):
    answer = provider.answer(http_proxy.request(context(), {}), auth="srcip")
    rel = testing.Relation("http-proxy", remote_app_data=answer.app)

    out = ctx.run(
        ctx.on.relation_changed(rel, remote_unit=0),
        dataclasses.replace(charm_state(rel), leader=False),
    )

    assert out.get_relation(rel.id).local_app_data == {}
    assert helpers.flask_env(out)["HTTP_PROXY"] == "http://squid.internal:3128"


def test_a_pending_request_waits_with_the_app_running(ctx, charm_state):
    _, _, out = answered(ctx, charm_state, status="pending")

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: http-proxy")
    assert "HTTP_PROXY" not in helpers.flask_env(out)
    assert out.get_container("flask-app").service_statuses["flask"].value == "active"


def test_a_refused_request_blocks_naming_the_status(ctx, charm_state):
    _, _, out = answered(ctx, charm_state, status="unsupported")

    assert out.unit_status == testing.BlockedStatus(
        "http-proxy relation: the provider answered the proxy request with status unsupported; "
        "check the provider's domains and authentication settings"
    )


def test_an_unusable_answer_blocks_without_showing_the_password(ctx, charm_state):
    user = testing.Secret({"username": "u", "password": "hunter2-secret"}, owner=None)
    response = {"requirer": our_id(), "status": "ready", "https_proxy": "squid", "user": user.id}
    rel = testing.Relation("http-proxy", remote_app_data=responses(response))

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel, secrets=[user]))

    assert out.unit_status == testing.BlockedStatus(
        "http-proxy relation: https_proxy is not a proxy URL (scheme://host:port)"
    )
