"""redis: redis-k8s's address becomes REDIS_DB_*; nothing is requested."""

import dataclasses

import ops
import pytest
from ops import testing

import flask_k8s
from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import redis
from tests.unit import conftest
from tests.unit.integrations.providers import redis as provider

CONTEXT = relation.Context(
    endpoint="redis", interface="redis", app_name="flask-k8s", model_name="test-model"
)
UNIT = {"hostname": "10.1.0.10", "port": "6379"}


def _no_secrets(uri: str) -> dict[str, str]:
    raise relation.SecretUnavailable(uri)


def _env(app=None, units=None, context=CONTEXT) -> dict[str, str]:
    data = relation.RemoteData(relation_id=1, app=app or {}, units=units or {})
    return redis.environment(context, data, _no_secrets)


def test_the_url_names_the_master_and_the_units_port():
    env = _env({"leader-host": "redis-k8s-0.redis-k8s-endpoints"}, {"redis-k8s/0": UNIT})

    assert env == {
        "REDIS_DB_CONNECT_STRING": "redis://redis-k8s-0.redis-k8s-endpoints:6379",
        "REDIS_DB_SCHEME": "redis",
        "REDIS_DB_NETLOC": "redis-k8s-0.redis-k8s-endpoints:6379",
        "REDIS_DB_PATH": "",
        "REDIS_DB_PARAMS": "",
        "REDIS_DB_QUERY": "",
        "REDIS_DB_FRAGMENT": "",
        "REDIS_DB_HOSTNAME": "redis-k8s-0.redis-k8s-endpoints",
        "REDIS_DB_PORT": "6379",
    }


def test_without_a_master_the_lowest_numbered_unit_is_used():
    units = {
        "redis-k8s/10": {"hostname": "10.1.0.20", "port": "6379"},
        "redis-k8s/2": {"hostname": "10.1.0.12", "port": "6379"},
    }

    assert _env({}, units)["REDIS_DB_CONNECT_STRING"] == "redis://10.1.0.12:6379"


def test_a_unit_still_writing_port_none_is_skipped():
    units = {"redis-k8s/0": {"hostname": "10.1.0.10", "port": "None"}, "redis-k8s/1": UNIT}

    assert _env({}, units)["REDIS_DB_CONNECT_STRING"] == "redis://10.1.0.10:6379"


def test_an_ipv6_address_is_bracketed_in_the_url_only():
    env = _env({}, {"redis-k8s/0": {"hostname": "fd00::10", "port": "6379"}})

    assert env["REDIS_DB_CONNECT_STRING"] == "redis://[fd00::10]:6379"
    assert env["REDIS_DB_HOSTNAME"] == "fd00::10"


def test_the_prefix_follows_the_endpoint_name():
    context = flask_k8s.replace(CONTEXT, endpoint="session-cache")

    env = _env({}, {"redis-k8s/0": UNIT}, context)

    assert env["SESSION_CACHE_DB_CONNECT_STRING"] == "redis://10.1.0.10:6379"


def test_nothing_is_requested():
    assert redis.request(CONTEXT, {}) == {}


@pytest.mark.parametrize(
    ("app", "units"),
    [
        ({}, {}),
        ({"leader-host": "redis-k8s-0"}, {}),
        ({"leader-host": "redis-k8s-0"}, {"redis-k8s/0": {"port": "None"}}),
        ({"leader-host": "redis-k8s-0"}, {"redis-k8s/0": {"port": ""}}),
        ({}, {"redis-k8s/0": {"port": "6379"}}),
        ({}, {"redis-k8s/0": {"hostname": "10.1.0.10"}}),
    ],
)
def test_waits_until_a_host_and_port_are_known(app, units):
    with pytest.raises(relation.NotReady):
        _env(app, units)


@pytest.mark.parametrize("port", ["abc", "0", "65536", "²", "-1", "63 79"])
def test_a_port_that_is_no_port_number_is_invalid(port):
    with pytest.raises(relation.InvalidData, match="is not a port number"):
        _env({}, {"redis-k8s/0": {"hostname": "10.1.0.10", "port": port}})


@pytest.mark.parametrize(
    ("app", "unit"),
    [
        ({"leader-host": "user@evil/x"}, UNIT),
        ({}, {"hostname": "10.1.0.10/x?#", "port": "6379"}),
        ({"leader-host": 42}, UNIT),
        ({}, {"hostname": "10.1.0.10", "port": 6379}),
        ({}, {"hostname": ["10.1.0.10"], "port": "6379"}),
    ],
)
def test_junk_in_the_bags_is_invalid(app, unit):
    with pytest.raises(relation.InvalidData):
        _env(app, {"redis-k8s/0": unit})


# Through the charm.


def _env_of(out: testing.State) -> dict[str, str]:
    return conftest.flask_env(out)


def _related(state, app, units) -> tuple[testing.State, testing.Relation]:
    rel = testing.Relation(
        "redis", remote_app_name="redis-k8s", remote_app_data=app, remote_units_data=units
    )
    return dataclasses.replace(state, relations={*state.relations, rel}), rel


def test_the_flask_service_gets_the_variables(ctx, state):
    state, rel = _related(state, {"leader-host": "redis-k8s-0.x"}, {0: UNIT})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)

    assert out.unit_status == testing.ActiveStatus()
    assert _env_of(out)["REDIS_DB_CONNECT_STRING"] == "redis://redis-k8s-0.x:6379"
    assert out.get_relation(rel.id).local_app_data == {}


def test_a_port_not_yet_known_waits_with_the_app_running(ctx, state):
    state, rel = _related(state, {}, {0: {"hostname": "10.1.0.10", "port": "None"}})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: redis")
    assert out.get_container("flask-app").service_statuses["flask"] == (
        ops.pebble.ServiceStatus.ACTIVE
    )
    assert not [name for name in _env_of(out) if name.startswith("REDIS")]


def test_a_bad_port_blocks_naming_the_field(ctx, state):
    state, rel = _related(state, {}, {0: {"hostname": "10.1.0.10", "port": "http"}})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)

    assert out.unit_status == testing.BlockedStatus(
        "redis relation: port 'http' is not a port number"
    )


def test_protocol_with_the_provider_model(ctx, state):
    state, rel = _related(state, {}, {})
    created = ctx.run(ctx.on.relation_created(rel), state)
    request = created.get_relation(rel.id).local_app_data

    app, units, _ = provider.answer(request)
    answered = dataclasses.replace(
        created.get_relation(rel.id), remote_app_data=app, remote_units_data=units
    )
    others = {other for other in created.relations if other.id != rel.id}
    out = ctx.run(
        ctx.on.relation_changed(answered, remote_unit=0),
        dataclasses.replace(created, relations={*others, answered}),
    )

    assert request == {}
    assert _env_of(out)["REDIS_DB_CONNECT_STRING"] == f"redis://{provider.LEADER_HOST}:6379"


def test_a_port_of_thousands_of_digits_is_invalid_data_not_a_crash():
    with pytest.raises(relation.InvalidData, match="is not a port number"):
        _env({"leader-host": "10.1.0.10"}, {"redis-k8s/0": {**UNIT, "port": "6" * 5000}})


def test_unit_names_with_huge_numbers_still_sort():
    units = {f"redis-k8s/{'9' * 5000}": UNIT, "redis-k8s/1": {**UNIT, "hostname": "10.1.0.11"}}

    assert _env(units=units)["REDIS_DB_HOSTNAME"] == "10.1.0.11"
