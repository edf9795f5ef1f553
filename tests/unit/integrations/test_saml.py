"""saml: saml-integrator's metadata becomes SAML_*; nothing is requested."""

import dataclasses

import pytest
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import saml
from tests.unit import conftest
from tests.unit.integrations.providers import saml as provider

CONTEXT = relation.Context(
    endpoint="saml", interface="saml", app_name="flask-k8s", model_name="test-model"
)
ANSWER = {
    "entity_id": "https://login.example.com/saml",
    "metadata_url": "https://login.example.com/saml/metadata",
    "x509certs": "MIICcertOne, MIICcertTwo",
    "single_sign_on_service_redirect_url": "https://login.example.com/saml/sso",
    "single_sign_on_service_redirect_binding": (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    ),
}
# An identity provider that offers single sign-on through the HTTP-POST binding only.
POST_ONLY = {
    "entity_id": "https://login.example.com/saml",
    "metadata_url": "https://login.example.com/saml/metadata",
    "x509certs": "MIICcertOne,MIICcertTwo",
    "single_sign_on_service_post_url": "https://login.example.com/saml/sso/post",
    "single_sign_on_service_post_binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
}


def _no_secrets(uri: str) -> dict[str, str]:
    raise relation.SecretUnavailable(uri)


def _env(app) -> dict[str, str]:
    return saml.environment(CONTEXT, relation.RemoteData(relation_id=1, app=app), _no_secrets)


def test_the_metadata_gives_every_variable():
    assert _env(ANSWER) == {
        "SAML_ENTITY_ID": "https://login.example.com/saml",
        "SAML_METADATA_URL": "https://login.example.com/saml/metadata",
        "SAML_SINGLE_SIGN_ON_REDIRECT_URL": "https://login.example.com/saml/sso",
        "SAML_SIGNING_CERTIFICATE": "MIICcertOne",
    }


def test_a_post_binding_provider_gives_every_variable_but_the_redirect_url():
    # paas-charm exports these three and leaves SAML_SINGLE_SIGN_ON_REDIRECT_URL out.
    assert _env(POST_ONLY) == {
        "SAML_ENTITY_ID": "https://login.example.com/saml",
        "SAML_METADATA_URL": "https://login.example.com/saml/metadata",
        "SAML_SIGNING_CERTIFICATE": "MIICcertOne",
    }


def test_the_entity_id_and_a_certificate_are_enough():
    app = {"entity_id": "urn:example:idp", "x509certs": "MIICcertOne"}

    assert _env(app) == {
        "SAML_ENTITY_ID": "urn:example:idp",
        "SAML_SIGNING_CERTIFICATE": "MIICcertOne",
    }


def test_a_redirect_url_sent_with_another_binding_is_left_out():
    post = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

    env = _env({**ANSWER, "single_sign_on_service_redirect_binding": post})

    assert "SAML_SINGLE_SIGN_ON_REDIRECT_URL" not in env
    assert env["SAML_ENTITY_ID"] == "https://login.example.com/saml"


def test_a_redirect_url_without_its_binding_is_exported():
    app = {k: v for k, v in ANSWER.items() if k != "single_sign_on_service_redirect_binding"}

    assert _env(app)["SAML_SINGLE_SIGN_ON_REDIRECT_URL"] == "https://login.example.com/saml/sso"


def test_the_metadata_url_is_optional():
    app = {key: value for key, value in ANSWER.items() if key != "metadata_url"}

    assert "SAML_METADATA_URL" not in _env(app)


def test_the_entity_id_need_not_be_a_url():
    assert _env({**ANSWER, "entity_id": "urn:example:idp"})["SAML_ENTITY_ID"] == "urn:example:idp"


def test_empty_items_of_the_certificate_list_are_skipped():
    env = _env({**ANSWER, "x509certs": " ,MIICcertTwo"})

    assert env["SAML_SIGNING_CERTIFICATE"] == "MIICcertTwo"


def test_nothing_is_requested():
    assert saml.request(CONTEXT, {}) == {}


@pytest.mark.parametrize("missing", ["entity_id", "x509certs"])
@pytest.mark.parametrize("answer", [ANSWER, POST_ONLY], ids=["redirect", "post"])
def test_waits_until_the_required_fields_are_sent(missing, answer):
    app = {key: value for key, value in answer.items() if key != missing}

    with pytest.raises(relation.NotReady):
        _env(app)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x509certs": ", ,"}, "x509certs holds no certificate"),
        ({"single_sign_on_service_redirect_url": "/saml/sso"}, "is not an http"),
        ({"single_sign_on_service_redirect_url": "ftp://idp/sso"}, "is not an http"),
        (
            {
                "single_sign_on_service_redirect_url": "/saml/sso",
                "single_sign_on_service_redirect_binding": "HTTP-POST",
            },
            "single_sign_on_service_redirect_url is not an http",
        ),
        ({"metadata_url": "https://[::1/metadata"}, "metadata_url is not an http"),
        ({"entity_id": 42}, "entity_id is not text"),
        ({"x509certs": ["MIIC"]}, "x509certs is not text"),
    ],
)
def test_an_unusable_answer_is_invalid(change, message):
    with pytest.raises(relation.InvalidData, match=message):
        _env({**ANSWER, **change})


# Through the charm.


def _related(state, app) -> tuple[testing.State, testing.Relation]:
    rel = testing.Relation("saml", remote_app_name="saml-integrator", remote_app_data=app)
    return dataclasses.replace(state, relations={*state.relations, rel}), rel


def test_the_flask_service_gets_the_variables(ctx, state):
    state, rel = _related(state, ANSWER)

    out = ctx.run(ctx.on.relation_changed(rel), state)

    env = conftest.flask_env(out)
    assert out.unit_status == testing.ActiveStatus()
    assert env["SAML_SIGNING_CERTIFICATE"] == "MIICcertOne"
    assert out.get_relation(rel.id).local_app_data == {}


def test_a_provider_without_metadata_yet_waits(ctx, state):
    state, rel = _related(state, {})

    out = ctx.run(ctx.on.relation_changed(rel), state)

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: saml")


def test_an_unusable_answer_blocks_naming_the_field(ctx, state):
    state, rel = _related(state, {**ANSWER, "x509certs": ","})

    out = ctx.run(ctx.on.relation_changed(rel), state)

    assert out.unit_status == testing.BlockedStatus(
        "saml relation: x509certs holds no certificate"
    )


def _through_the_charm(ctx, state, **answer) -> tuple[dict[str, str], testing.State]:
    """Our request, and the charm's state once the provider model answered it."""
    state, rel = _related(state, {})
    created = ctx.run(ctx.on.relation_created(rel), state)
    request = dict(created.get_relation(rel.id).local_app_data)

    app, _, _ = provider.answer(request, **answer)
    answered = dataclasses.replace(created.get_relation(rel.id), remote_app_data=app)
    others = {other for other in created.relations if other.id != rel.id}
    out = ctx.run(
        ctx.on.relation_changed(answered),
        dataclasses.replace(created, relations={*others, answered}),
    )
    return request, out


def test_protocol_with_the_provider_model(ctx, state):
    request, out = _through_the_charm(ctx, state)

    env = conftest.flask_env(out)
    assert request == {}
    assert env["SAML_ENTITY_ID"] == f"{provider.IDP}/saml"
    assert env["SAML_METADATA_URL"] == f"{provider.IDP}/saml/metadata"
    # The redirect binding's URL, not the POST one listed first.
    assert env["SAML_SINGLE_SIGN_ON_REDIRECT_URL"] == f"{provider.IDP}/saml/sso"
    assert env["SAML_SIGNING_CERTIFICATE"] == provider.CERTIFICATES[0]


def test_protocol_with_a_post_binding_provider_model(ctx, state):
    _, out = _through_the_charm(ctx, state, services=provider.POST_ONLY)

    env = conftest.flask_env(out)
    assert out.unit_status == testing.ActiveStatus()
    assert env["SAML_ENTITY_ID"] == f"{provider.IDP}/saml"
    assert env["SAML_METADATA_URL"] == f"{provider.IDP}/saml/metadata"
    assert env["SAML_SIGNING_CERTIFICATE"] == provider.CERTIFICATES[0]
    assert "SAML_SINGLE_SIGN_ON_REDIRECT_URL" not in env
