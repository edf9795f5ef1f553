"""smtp: the integrator's server settings become SMTP_* variables; the requirer writes nothing."""

from __future__ import annotations

import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import smtp
from tests.unit.integrations import helpers
from tests.unit.integrations.providers import smtp as provider

PASSWORD = "m@il:p/w#1"
SERVER = {"host": "mail.example.com", "port": "587"}


def context() -> relation.Context:
    return relation.Context(
        endpoint="smtp", interface="smtp", app_name="flask-k8s", model_name="test-model"
    )


def environment(
    app: typing.Mapping[str, typing.Any], secrets: typing.Mapping[str, typing.Any] | None = None
) -> dict[str, str]:
    data = relation.RemoteData(relation_id=1, app=app)
    return smtp.environment(context(), data, helpers.reader(secrets or {}))


def test_the_requirer_writes_nothing():
    assert smtp.request(context(), {}) == {}


def test_the_integrators_answer_becomes_every_smtp_variable():
    answer = provider.answer(smtp.request(context(), {}))

    env = environment(answer.app, answer.secrets)

    assert env == {
        "SMTP_HOST": "mail.example.com",
        "SMTP_PORT": "587",
        "SMTP_USER": "mailer",
        "SMTP_PASSWORD": PASSWORD,
        "SMTP_AUTH_TYPE": "plain",
        "SMTP_TRANSPORT_SECURITY": "starttls",
        "SMTP_DOMAIN": "example.com",
        "SMTP_SKIP_SSL_VERIFY": "False",
    }


def test_a_plain_password_is_read_when_the_integrator_has_no_secrets():
    answer = provider.answer({}, use_secrets=False)
    assert not answer.secrets

    assert environment(answer.app)["SMTP_PASSWORD"] == PASSWORD


def test_the_secret_password_wins_over_a_plain_one():
    answer = provider.answer({})

    env = environment({**answer.app, "password": "stale"}, answer.secrets)

    assert env["SMTP_PASSWORD"] == PASSWORD


def test_a_password_keeps_its_spaces():
    assert environment({**SERVER, "password": " pw "})["SMTP_PASSWORD"] == " pw "


def test_a_server_without_login_gives_only_host_port_and_ssl_verification():
    answer = provider.answer(
        {}, user=None, password=None, domain=None, auth_type="none", transport_security="none"
    )

    assert environment(answer.app) == {
        "SMTP_HOST": "mail.example.com",
        "SMTP_PORT": "587",
        "SMTP_SKIP_SSL_VERIFY": "False",
    }


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("auth_type", "not_provided", "SMTP_AUTH_TYPE"),
        ("auth_type", "plain", "SMTP_AUTH_TYPE"),
        ("transport_security", "starttls", "SMTP_TRANSPORT_SECURITY"),
        ("transport_security", "tls", "SMTP_TRANSPORT_SECURITY"),
    ],
)
def test_auth_type_and_transport_security_other_than_none_are_passed(field, value, variable):
    assert environment({**SERVER, field: value})[variable] == value


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        # paas-charm drops every substring of "none": these would vanish there.
        ("user", "on", "SMTP_USER"),
        ("user", "none", "SMTP_USER"),
        ("domain", "no", "SMTP_DOMAIN"),
        ("password", "one", "SMTP_PASSWORD"),
    ],
)
def test_only_the_value_none_of_the_two_choices_is_dropped(field, value, variable):
    assert environment({**SERVER, field: value})[variable] == value


@pytest.mark.parametrize(
    ("written", "variable"),
    [(None, "False"), ("False", "False"), ("True", "True"), ("true", "True"), ("FALSE", "False")],
)
def test_skip_ssl_verify_is_true_or_false_and_false_by_default(written, variable):
    app = dict(SERVER) if written is None else {**SERVER, "skip_ssl_verify": written}

    assert environment(app)["SMTP_SKIP_SSL_VERIFY"] == variable


@pytest.mark.parametrize(
    ("written", "port"), [("25", "25"), (" 0465 ", "465"), ("65535", "65535")]
)
def test_the_port_is_passed_as_a_plain_integer(written, port):
    assert environment({**SERVER, "port": written})["SMTP_PORT"] == port


@pytest.mark.parametrize("app", [{}, {"auth_type": "none", "skip_ssl_verify": "False"}])
def test_no_server_yet_is_waited_for(app):
    with pytest.raises(relation.NotReady):
        environment(app)


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ({"host": "mail"}, "the provider sent a host but no port"),
        ({"port": "25"}, "the provider sent a port but no host"),
        ({"host": "mail", "port": "  "}, "the provider sent a host but no port"),
        ({**SERVER, "port": "0"}, "port must be an integer from 1 to 65535"),
        ({**SERVER, "port": "65536"}, "port must be an integer from 1 to 65535"),
        ({**SERVER, "port": "smtp"}, "port must be an integer from 1 to 65535"),
        ({**SERVER, "port": "-25"}, "port must be an integer from 1 to 65535"),
        ({**SERVER, "port": "25.0"}, "port must be an integer from 1 to 65535"),
        ({**SERVER, "port": "²"}, "port must be an integer from 1 to 65535"),
        ({**SERVER, "auth_type": "login"}, "auth_type must be one of none, not_provided, plain"),
        (
            {**SERVER, "transport_security": "ssl"},
            "transport_security must be one of none, starttls, tls",
        ),
        ({**SERVER, "skip_ssl_verify": "yes"}, "skip_ssl_verify must be True or False"),
        ({**SERVER, "host": 25}, "host is not text"),
        ({**SERVER, "password": ["pw"]}, "password is not text"),
        ({**SERVER, "password_id": 7}, "password_id is not a secret URI"),
    ],
)
def test_an_unusable_answer_says_which_field_to_fix(app, message):
    with pytest.raises(relation.InvalidData) as invalid:
        environment(app)

    assert invalid.value.message == message


def test_an_unreadable_password_secret_is_invalid_data():
    with pytest.raises(relation.InvalidData) as invalid:
        environment({**SERVER, "password_id": "secret:gone"})

    assert "password_id cannot be read" in invalid.value.message


def test_a_password_secret_without_its_key_is_named_without_its_content():
    secrets = {"secret:pw": {"passwd": "hunter2-secret"}}

    with pytest.raises(relation.InvalidData) as invalid:
        environment({**SERVER, "password_id": "secret:pw"}, secrets)

    assert invalid.value.message == "the secret in password_id has no 'password' key"


FIELDS = (
    "host",
    "port",
    "auth_type",
    "transport_security",
    "user",
    "password",
    "password_id",
    "domain",
    "skip_ssl_verify",
)
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["25", "0", "none", "plain", "tls", "True", "secret:pw", " "]),
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
    secrets = {} if content is None else {"secret:pw": content}
    try:
        env = environment(app, secrets)
    except (relation.NotReady, relation.InvalidData):
        return
    assert all(isinstance(value, str) and value for value in env.values())
    assert {"SMTP_HOST", "SMTP_PORT", "SMTP_SKIP_SSL_VERIFY"} <= set(env)


# Through the charm, against the integrator model.


def test_two_sided_the_integrators_answer_reaches_the_flask_service(ctx, charm_state):
    created = testing.Relation("smtp")
    out = ctx.run(ctx.on.relation_created(created), charm_state(created))
    request = dict(out.get_relation(created.id).local_app_data)
    assert request == {}

    answer = provider.answer(request)
    out = helpers.answer_through_charm(ctx, charm_state, created, answer)

    env = helpers.flask_env(out)
    assert env["SMTP_HOST"] == "mail.example.com"
    assert env["SMTP_PORT"] == "587"
    assert env["SMTP_PASSWORD"] == PASSWORD
    assert out.unit_status == testing.ActiveStatus()
    assert out.get_relation(created.id).local_app_data == {}


def test_a_relation_not_yet_answered_waits_with_the_app_running(ctx, charm_state):
    rel = testing.Relation("smtp")

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel))

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: smtp")
    assert not [name for name in helpers.flask_env(out) if name.startswith("SMTP_")]
    assert out.get_container("flask-app").service_statuses["flask"].value == "active"


def test_an_unusable_answer_blocks_without_showing_the_password(ctx, charm_state):
    password = testing.Secret({"password": "hunter2-secret"}, owner=None)
    rel = testing.Relation(
        "smtp",
        remote_app_data={"host": "mail", "port": "99999", "password_id": password.id or ""},
    )

    out = ctx.run(
        ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel, secrets=[password])
    )

    assert out.unit_status == testing.BlockedStatus(
        "smtp relation: port must be an integer from 1 to 65535"
    )


def test_an_ungranted_password_blocks_naming_the_field(ctx, charm_state):
    rel = testing.Relation(
        "smtp", remote_app_data={**SERVER, "password_id": "secret:0l80fktutk9gu7wdi6w5"}
    )

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel))

    assert out.unit_status == testing.BlockedStatus(
        "smtp relation: the secret in password_id cannot be read (unknown, revoked or not granted)"
    )


def test_a_port_of_thousands_of_digits_is_invalid_data_not_a_crash():
    with pytest.raises(relation.InvalidData, match="port must be an integer"):
        environment({"host": "mail.example.com", "port": "5" * 5000})
