"""rabbitmq: rabbitmq-k8s's or rabbitmq-server's answer becomes RABBITMQ_*."""

import dataclasses

import pytest
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import rabbitmq
from tests.unit import conftest
from tests.unit.integrations.providers import rabbitmq as provider

CONTEXT = relation.Context(
    endpoint="rabbitmq", interface="rabbitmq", app_name="flask-k8s", model_name="test-model"
)
PASSWORD = " rmq pw@:/?#% "
ENCODED = "%20rmq%20pw%40%3A%2F%3F%23%25%20"
K8S_ANSWER = {"hostname": "rabbitmq-k8s.test-model.svc", "password": PASSWORD}


def _no_secrets(uri: str) -> dict[str, str]:
    raise relation.SecretUnavailable(uri)


def _env(app=None, units=None) -> dict[str, str]:
    data = relation.RemoteData(relation_id=1, app=app or {}, units=units or {})
    return rabbitmq.environment(CONTEXT, data, _no_secrets)


def test_rabbitmq_k8s_answers_in_its_app_bag():
    url = f"amqp://flask-k8s:{ENCODED}@rabbitmq-k8s.test-model.svc:5672/%2F"

    assert _env(K8S_ANSWER, {"rabbitmq-k8s/0": {"ingress-address": "10.2.0.10"}}) == {
        "RABBITMQ_CONNECT_STRING": url,
        "RABBITMQ_SCHEME": "amqp",
        "RABBITMQ_NETLOC": f"flask-k8s:{ENCODED}@rabbitmq-k8s.test-model.svc:5672",
        "RABBITMQ_PATH": "/%2F",
        "RABBITMQ_PARAMS": "",
        "RABBITMQ_QUERY": "",
        "RABBITMQ_FRAGMENT": "",
        "RABBITMQ_USERNAME": "flask-k8s",
        "RABBITMQ_PASSWORD": PASSWORD,
        "RABBITMQ_HOSTNAME": "rabbitmq-k8s.test-model.svc",
        "RABBITMQ_PORT": "5672",
        "RABBITMQ_VHOST": "/",
        "RABBITMQ_CONNECT_STRINGS": url,
    }


def test_rabbitmq_server_answers_in_its_unit_bags_lowest_number_first():
    units = {
        "rabbitmq-server/10": {"hostname": "10.2.0.20", "password": "pw"},
        "rabbitmq-server/2": {"hostname": "10.2.0.12", "password": "pw"},
        "rabbitmq-server/3": {"ingress-address": "10.2.0.13"},
    }

    env = _env({}, units)

    assert env["RABBITMQ_CONNECT_STRING"] == "amqp://flask-k8s:pw@10.2.0.12:5672/%2F"
    assert env["RABBITMQ_CONNECT_STRINGS"] == (
        "amqp://flask-k8s:pw@10.2.0.12:5672/%2F,amqp://flask-k8s:pw@10.2.0.20:5672/%2F"
    )


def test_a_unit_without_a_password_yet_is_skipped():
    units = {
        "rabbitmq-server/0": {"hostname": "10.2.0.10"},
        "rabbitmq-server/1": {"hostname": "10.2.0.11", "password": "pw"},
    }

    assert _env({}, units)["RABBITMQ_HOSTNAME"] == "10.2.0.11"


def test_there_is_no_name_variable_beside_the_vhost():
    env = _env(K8S_ANSWER)

    assert "RABBITMQ_NAME" not in env
    assert env["RABBITMQ_VHOST"] == "/"


def test_the_request_is_a_user_named_after_the_app_on_the_default_vhost():
    assert rabbitmq.request(CONTEXT, {}) == {"username": "flask-k8s", "vhost": "/"}


@pytest.mark.parametrize(
    ("app", "units"),
    [
        ({}, {}),
        ({"hostname": "rabbitmq-k8s"}, {}),
        ({"password": "pw"}, {}),
        ({"hostname": "rabbitmq-k8s", "password": ""}, {}),
        ({}, {"rabbitmq-server/0": {"hostname": "10.2.0.10"}}),
        ({}, {"rabbitmq-server/0": {"ingress-address": "10.2.0.10"}}),
    ],
)
def test_waits_until_a_hostname_and_password_are_sent(app, units):
    with pytest.raises(relation.NotReady):
        _env(app, units)


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ({"hostname": "guest@rabbit", "password": "pw"}, "hostname .* is not a host name"),
        ({"hostname": "rabbit/vhost", "password": "pw"}, "hostname .* is not a host name"),
        ({"hostname": 42, "password": "pw"}, "hostname is not text"),
        ({"hostname": "rabbit", "password": 42}, "password is not text"),
    ],
)
def test_an_unusable_answer_is_invalid(app, message):
    with pytest.raises(relation.InvalidData, match=message):
        _env(app)


# Through the charm.


def _env_of(out: testing.State) -> dict[str, str]:
    return conftest.flask_env(out)


def _related(state, app, units=None) -> tuple[testing.State, testing.Relation]:
    rel = testing.Relation(
        "rabbitmq",
        remote_app_name="rabbitmq-k8s",
        remote_app_data=app,
        remote_units_data=units or {0: {}},
    )
    return dataclasses.replace(state, relations={*state.relations, rel}), rel


def test_the_flask_service_gets_the_variables(ctx, state):
    state, rel = _related(state, K8S_ANSWER)

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)

    assert out.unit_status == testing.ActiveStatus()
    assert _env_of(out)["RABBITMQ_PASSWORD"] == PASSWORD


def test_the_leader_requests_a_user(ctx, state):
    state, rel = _related(state, {})

    out = ctx.run(ctx.on.relation_joined(rel, remote_unit=0), state)

    assert out.get_relation(rel.id).local_app_data == {"username": "flask-k8s", "vhost": "/"}


def test_a_follower_writes_no_request(ctx, state):
    state, rel = _related(dataclasses.replace(state, leader=False), {})

    out = ctx.run(ctx.on.relation_joined(rel, remote_unit=0), state)

    assert out.get_relation(rel.id).local_app_data == {}


def test_a_provider_still_creating_the_user_waits(ctx, state):
    state, rel = _related(state, {"hostname": "rabbitmq-k8s"})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: rabbitmq")


def test_an_unusable_answer_blocks_without_the_password(ctx, state):
    state, rel = _related(state, {"hostname": "guest@rabbit", "password": PASSWORD})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)

    assert out.unit_status == testing.BlockedStatus(
        "rabbitmq relation: hostname 'guest@rabbit' is not a host name or IP address"
    )
    assert PASSWORD.strip() not in out.unit_status.message


@pytest.mark.parametrize(
    ("style", "hosts"),
    [
        ("k8s", [provider.K8S_HOST]),
        ("machine", ["10.2.0.10", "10.2.0.11"]),
    ],
)
def test_protocol_with_the_provider_model(ctx, state, style, hosts):
    state, rel = _related(state, {})
    joined = ctx.run(ctx.on.relation_joined(rel, remote_unit=0), state)
    request = joined.get_relation(rel.id).local_app_data

    app, units, _ = provider.answer(request, style=style)
    answered = dataclasses.replace(
        joined.get_relation(rel.id), remote_app_data=app, remote_units_data=units
    )
    others = {other for other in joined.relations if other.id != rel.id}
    out = ctx.run(
        ctx.on.relation_changed(answered, remote_unit=0),
        dataclasses.replace(joined, relations={*others, answered}),
    )

    env = _env_of(out)
    password = "rmq%20pw%40%3A%2F%3F%23%25"
    urls = [f"amqp://flask-k8s:{password}@{host}:5672/%2F" for host in hosts]
    assert env["RABBITMQ_CONNECT_STRING"] == urls[0]
    assert env["RABBITMQ_CONNECT_STRINGS"] == ",".join(urls)
    assert env["RABBITMQ_PASSWORD"] == provider.PASSWORD
