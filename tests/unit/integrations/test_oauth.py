"""oauth: the app's OIDC client is registered with the provider; its credentials reach the app."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import oauth
from tests.unit.integrations import helpers
from tests.unit.integrations.providers import oauth as provider

SECRET = "s3cr:et/#%"
BASE_URL = "http://flask-k8s.test-model:8000"
DEFAULTS = {"oidc-redirect-path": "/callback", "oidc-scopes": "openid profile email"}


def context(
    endpoint: str = "oidc", config: typing.Mapping[str, typing.Any] | None = None, **kwargs
) -> relation.Context:
    return relation.Context(
        endpoint=endpoint,
        interface="oauth",
        app_name="flask-k8s",
        model_name="test-model",
        config=DEFAULTS if config is None else config,
        base_url=(base_url := kwargs.pop("base_url", BASE_URL)),
        # An ingress gives the app its URL, unless a test says there is none.
        external_url=kwargs.pop("external_url", base_url),
        **kwargs,
    )


def environment(
    app: typing.Mapping[str, typing.Any],
    secrets: typing.Mapping[str, typing.Any] | None = None,
    ctx: relation.Context | None = None,
) -> dict[str, str]:
    data = relation.RemoteData(relation_id=1, app=app)
    return oauth.environment(ctx or context(), data, helpers.reader(secrets or {}))


def registered() -> provider.Answer:
    return provider.answer(oauth.request(context(), {}), client_secret=SECRET)


def test_the_request_describes_an_authorization_code_client():
    assert oauth.request(context(), {}) == {
        "redirect_uri": "http://flask-k8s.test-model:8000/callback",
        "scope": "openid profile email",
        "grant_types": '["authorization_code"]',
        "audience": "[]",
        "token_endpoint_auth_method": "client_secret_basic",
    }


@pytest.mark.parametrize(
    ("base_url", "path", "redirect_uri"),
    [
        ("http://a.m:8000/", "/callback", "http://a.m:8000/callback"),
        ("http://a.m:8000", "callback", "http://a.m:8000/callback"),
        ("https://app.example.com/shop/", "/auth/cb", "https://app.example.com/shop/auth/cb"),
        ("https://app.example.com", " /cb ", "https://app.example.com/cb"),
    ],
)
def test_the_redirect_uri_joins_the_app_url_and_the_redirect_path(base_url, path, redirect_uri):
    ctx = context(config={**DEFAULTS, "oidc-redirect-path": path}, base_url=base_url)

    assert oauth.request(ctx, {})["redirect_uri"] == redirect_uri


def test_the_scopes_are_sent_space_separated_whatever_the_spacing():
    ctx = context(config={**DEFAULTS, "oidc-scopes": " openid\tprofile   email "})

    assert oauth.request(ctx, {})["scope"] == "openid profile email"


def test_a_charm_without_the_options_uses_their_defaults():
    request = oauth.request(context(config={}), {})

    assert request["redirect_uri"] == "http://flask-k8s.test-model:8000/callback"
    assert request["scope"] == "openid profile email"


def test_the_options_are_named_after_the_endpoint():
    config = {"sso-redirect-path": "/sso", "sso-scopes": "openid email"}

    request = oauth.request(context("sso", config=config), {})

    assert request["redirect_uri"] == "http://flask-k8s.test-model:8000/sso"
    assert request["scope"] == "openid email"


def test_the_registered_client_becomes_every_variable():
    answer = registered()

    assert environment(answer.app, answer.secrets) == {
        "FLASK_OIDC_CLIENT_ID": answer.app["client_id"],
        "FLASK_OIDC_CLIENT_SECRET": SECRET,
        "FLASK_OIDC_API_BASE_URL": "https://iam.example.com",
        "FLASK_OIDC_AUTHORIZE_URL": "https://iam.example.com/oauth2/auth",
        "FLASK_OIDC_ACCESS_TOKEN_URL": "https://iam.example.com/oauth2/token",
        "FLASK_OIDC_USER_URL": "https://iam.example.com/userinfo",
        "FLASK_OIDC_JWKS_URL": "https://iam.example.com/.well-known/jwks.json",
        "FLASK_OIDC_CLIENT_KWARGS": '{"scope": "openid profile email"}',
    }


def test_dashes_in_the_endpoint_name_become_underscores():
    config = {"my-oidc-scopes": "openid"}
    answer = registered()

    env = environment(answer.app, answer.secrets, context("my-oidc", config=config))

    assert env["FLASK_MY_OIDC_CLIENT_ID"] == answer.app["client_id"]
    assert json.loads(env["FLASK_MY_OIDC_CLIENT_KWARGS"]) == {"scope": "openid"}
    assert not [name for name in env if "-" in name]


def test_the_prefix_is_the_workloads():
    answer = registered()

    env = environment(answer.app, answer.secrets, context(env_prefix="DJANGO_"))

    assert env["DJANGO_OIDC_CLIENT_SECRET"] == SECRET


def test_userinfo_and_jwks_are_set_only_when_sent():
    answer = registered()
    app = {
        key: value
        for key, value in answer.app.items()
        if key not in ("userinfo_endpoint", "jwks_endpoint")
    }

    env = environment(app, answer.secrets)

    assert "FLASK_OIDC_USER_URL" not in env
    assert "FLASK_OIDC_JWKS_URL" not in env
    assert env["FLASK_OIDC_ACCESS_TOKEN_URL"] == "https://iam.example.com/oauth2/token"


@pytest.mark.parametrize(
    "scopes", ["profile email", "openidconnect profile", "OpenID email", "profile,openid", ""]
)
def test_scopes_without_the_word_openid_are_not_sent_and_block(scopes):
    ctx = context(config={**DEFAULTS, "oidc-scopes": scopes})
    answer = registered()

    assert oauth.request(ctx, {}) == {}
    with pytest.raises(relation.InvalidData) as invalid:
        environment(answer.app, answer.secrets, ctx)
    assert invalid.value.message == "the scopes must include openid; add it to oidc-scopes"


def test_the_provider_would_reject_a_client_without_openid():
    request = {**oauth.request(context(), {}), "scope": "profile email"}

    with pytest.raises(provider.Rejected):
        provider.answer(request)


@pytest.mark.parametrize(
    "app",
    [
        {},
        provider.provider_info(),
        {**provider.provider_info(), "client_id": "c1"},
        {**provider.provider_info(), "client_secret_id": "secret:s"},
        {**provider.provider_info(), "client_id": " ", "client_secret_id": "secret:s"},
    ],
)
def test_a_client_not_yet_registered_is_waited_for(app):
    with pytest.raises(relation.NotReady):
        environment(app, {"secret:s": {"secret": SECRET}})


CLIENT = {"client_id": "c1", "client_secret_id": "secret:s"}


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ({**CLIENT}, "the provider sent no issuer_url"),
        (
            {**provider.provider_info(), **CLIENT, "token_endpoint": ""},
            "the provider sent no token_endpoint",
        ),
        (
            {**provider.provider_info(), **CLIENT, "authorization_endpoint": "iam/auth"},
            "authorization_endpoint is not an http(s) URL",
        ),
        (
            {**provider.provider_info(), **CLIENT, "issuer_url": "ftp://iam.example.com"},
            "issuer_url is not an http(s) URL",
        ),
        (
            {**provider.provider_info(), **CLIENT, "jwks_endpoint": "https://[::1/jwks"},
            "jwks_endpoint is not an http(s) URL",
        ),
        (
            {**provider.provider_info(), **CLIENT, "userinfo_endpoint": ["x"]},
            "userinfo_endpoint is not text",
        ),
        ({**provider.provider_info(), **CLIENT, "client_id": 5}, "client_id is not text"),
        (
            {**provider.provider_info(), **CLIENT, "client_secret_id": 5},
            "client_secret_id is not a secret URI",
        ),
        (
            {**provider.provider_info(), **CLIENT, "client_secret_id": "secret:gone"},
            "the secret in client_secret_id cannot be read (unknown, revoked or not granted)",
        ),
        (
            {**provider.provider_info(), **CLIENT, "client_secret_id": "secret:empty"},
            "the secret in client_secret_id has no 'secret' key",
        ),
    ],
)
def test_an_unusable_answer_says_which_field_to_fix(app, message):
    secrets = {"secret:s": {"secret": SECRET}, "secret:empty": {"client-secret": SECRET}}

    with pytest.raises(relation.InvalidData) as invalid:
        environment(app, secrets)

    assert invalid.value.message == message
    assert SECRET not in invalid.value.message


FIELDS = (
    "issuer_url",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_endpoint",
    "client_id",
    "client_secret_id",
)
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["https://iam/x", "http://[::1", "secret:s", " ", ""]),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    app=st.dictionaries(st.sampled_from(FIELDS), VALUES),
    content=st.one_of(st.none(), st.dictionaries(st.text(max_size=9), st.text(max_size=5))),
    scopes=st.one_of(st.none(), st.text(max_size=20), st.integers()),
    path=st.one_of(st.none(), st.text(max_size=10)),
)
def test_any_databag_or_option_gives_variables_or_a_status_never_a_crash(
    app, content, scopes, path
):
    ctx = context(config={"oidc-scopes": scopes, "oidc-redirect-path": path})
    assert isinstance(oauth.request(ctx, {}), dict)
    secrets = {} if content is None else {"secret:s": content}
    try:
        env = environment(app, secrets, ctx)
    except (relation.NotReady, relation.InvalidData):
        return
    assert all(isinstance(value, str) and value for value in env.values())
    assert {"FLASK_OIDC_CLIENT_ID", "FLASK_OIDC_CLIENT_SECRET"} <= set(env)


def test_without_an_ingress_no_client_is_asked_for_and_the_relation_blocks():
    ctx = context(external_url=None)

    assert oauth.request(ctx, {}) == {}
    with pytest.raises(relation.InvalidData, match="integrate an ingress"):
        environment(registered().app, registered().secrets, ctx)


# Through the charm, against the provider model.

INGRESS = testing.Relation(
    "ingress",
    remote_app_data={"ingress": json.dumps({"url": "https://app.example.com/shop"})},
)


@pytest.fixture
def charm_state(state: testing.State) -> typing.Callable[..., testing.State]:
    """The ready charm behind an ingress, with these relations, secrets and options."""

    def make(
        *relations: testing.Relation,
        secrets: typing.Iterable[testing.Secret] = (),
        **config: str,
    ):
        return dataclasses.replace(
            state,
            relations={*state.relations, INGRESS, *relations},
            secrets={*state.secrets, *secrets},
            config={name.replace("_", "-"): value for name, value in config.items()},
        )

    return make


def test_two_sided_the_registered_client_reaches_the_flask_service(ctx, charm_state):
    created = testing.Relation("oidc", remote_app_data=provider.provider_info())
    out = ctx.run(ctx.on.relation_created(created), charm_state(created))
    request = dict(out.get_relation(created.id).local_app_data)

    answer = provider.answer(request, client_secret=SECRET)
    out = helpers.answer_through_charm(ctx, charm_state, out.get_relation(created.id), answer)

    env = helpers.flask_env(out)
    assert request["redirect_uri"] == "https://app.example.com/shop/callback"
    assert env["FLASK_OIDC_CLIENT_ID"] == answer.app["client_id"]
    assert env["FLASK_OIDC_CLIENT_SECRET"] == SECRET
    assert env["FLASK_OIDC_API_BASE_URL"] == "https://iam.example.com"
    assert env["FLASK_OIDC_CLIENT_KWARGS"] == '{"scope": "openid profile email"}'
    assert out.unit_status == testing.ActiveStatus()


def test_the_request_follows_the_options_and_is_kept_across_hooks(ctx, charm_state):
    rel = testing.Relation("oidc")
    first = ctx.run(
        ctx.on.relation_created(rel),
        charm_state(rel, oidc_redirect_path="/auth/cb", oidc_scopes="openid email"),
    )
    again = ctx.run(ctx.on.update_status(), first)

    bag = first.get_relation(rel.id).local_app_data
    assert bag["redirect_uri"] == "https://app.example.com/shop/auth/cb"
    assert bag["scope"] == "openid email"
    assert again.get_relation(rel.id).local_app_data == bag


def test_only_the_leader_writes_the_request(ctx, charm_state):
    rel = testing.Relation("oidc")

    out = ctx.run(
        ctx.on.relation_created(rel), dataclasses.replace(charm_state(rel), leader=False)
    )

    assert out.get_relation(rel.id).local_app_data == {}


def test_a_client_not_yet_registered_waits_with_the_app_running(ctx, charm_state):
    rel = testing.Relation("oidc", remote_app_data=provider.provider_info())

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel))

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: oidc")
    assert "FLASK_OIDC_CLIENT_ID" not in helpers.flask_env(out)
    assert out.get_container("flask-app").service_statuses["flask"].value == "active"


def test_scopes_without_openid_block_naming_the_option_and_send_nothing(ctx, charm_state):
    rel = testing.Relation("oidc", remote_app_data=provider.provider_info())

    out = ctx.run(ctx.on.relation_created(rel), charm_state(rel, oidc_scopes="profile email"))

    assert out.unit_status == testing.BlockedStatus(
        "oidc relation: the scopes must include openid; add it to oidc-scopes"
    )
    assert out.get_relation(rel.id).local_app_data == {}


def test_an_unusable_answer_blocks_without_showing_the_client_secret(ctx, charm_state):
    client_secret = testing.Secret({"secret": "hunter2-secret"}, owner=None)
    rel = testing.Relation(
        "oidc",
        remote_app_data={
            **provider.provider_info(),
            "token_endpoint": "not a URL",
            "client_id": "c1",
            "client_secret_id": client_secret.id or "",
        },
    )

    out = ctx.run(
        ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel, secrets=[client_secret])
    )

    assert out.unit_status == testing.BlockedStatus(
        "oidc relation: token_endpoint is not an http(s) URL"
    )


def test_without_an_ingress_the_relation_blocks_and_asks_for_no_client(ctx, state):
    rel = testing.Relation("oidc", remote_app_data=provider.provider_info())

    out = ctx.run(
        ctx.on.relation_created(rel), dataclasses.replace(state, relations={*state.relations, rel})
    )

    assert out.unit_status == testing.BlockedStatus(
        "oidc relation: the redirect URI needs the app's external URL: integrate an ingress"
    )
    assert out.get_relation(rel.id).local_app_data == {}


def test_an_option_whose_variable_the_integration_sets_blocks_naming_both(make_ctx, charm_state):
    # Option oidc-client-id would be FLASK_OIDC_CLIENT_ID, which the oidc answer also sets:
    # neither may silently win.
    ctx = make_ctx({"oidc-client-id": {"type": "string", "description": "mine"}})
    created = testing.Relation("oidc", remote_app_data=provider.provider_info())
    out = ctx.run(ctx.on.relation_created(created), charm_state(created))
    answer = provider.answer(dict(out.get_relation(created.id).local_app_data))
    secrets = [
        testing.Secret(content, id=uri, owner=None) for uri, content in answer.secrets.items()
    ]
    answered = dataclasses.replace(out.get_relation(created.id), remote_app_data=answer.app)
    state = charm_state(answered, secrets=secrets, oidc_client_id="from-the-option")

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "invalid config: oidc-client-id would set FLASK_OIDC_CLIENT_ID, which an integration "
        "sets; rename the option"
    )
