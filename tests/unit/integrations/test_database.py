"""postgresql, mysql and mongodb: the data_interfaces v0 requirer, alone and through the charm."""

from __future__ import annotations

import dataclasses
import json

import pytest
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import database
from tests.unit.integrations import helpers
from tests.unit.integrations.providers import database as provider

NASTY = "p@ss:/?#% w"
KINDS = {
    "postgresql": "postgresql_client",
    "mysql": "mysql_client",
    "mongodb": "mongodb_client",
}


def context(endpoint: str = "postgresql") -> relation.Context:
    return relation.Context(
        endpoint=endpoint, interface=KINDS.get(endpoint, "postgresql_client"), app_name="flask-k8s"
    )


def environment(endpoint: str, answer: provider.Answer) -> dict[str, str]:
    data = relation.RemoteData(relation_id=1, app=answer.app, units=answer.units)
    return database.environment(context(endpoint), data, helpers.reader(answer.secrets))


def test_request_asks_for_the_app_database_with_credentials_in_secrets():
    request = database.request(context(), {})

    assert request["database"] == "flask-k8s"
    assert {"username", "password", "uris"} <= set(json.loads(request["requested-secrets"]))


def test_postgresql_answer_becomes_connect_string_and_parts():
    answer = provider.answer("postgresql", database.request(context(), {}))
    assert answer is not None

    env = environment("postgresql", answer)

    assert env["POSTGRESQL_DB_CONNECT_STRING"] == (
        "postgresql://relation-7:Zx81pw@postgresql-k8s-primary.m.svc.cluster.local:5432/flask-k8s"
    )
    assert env["POSTGRESQL_DB_USERNAME"] == "relation-7"
    assert env["POSTGRESQL_DB_PASSWORD"] == "Zx81pw"
    assert env["POSTGRESQL_DB_HOSTNAME"] == "postgresql-k8s-primary.m.svc.cluster.local"
    assert env["POSTGRESQL_DB_PORT"] == "5432"
    assert env["POSTGRESQL_DB_NAME"] == "flask-k8s"


@pytest.mark.parametrize("endpoint", ["postgresql", "mysql", "mongodb"])
def test_any_password_survives_every_provider(endpoint):
    answer = provider.answer(endpoint, database.request(context(endpoint), {}), password=NASTY)
    assert answer is not None

    env = environment(endpoint, answer)

    prefix = endpoint.upper() + "_DB"
    assert env[f"{prefix}_PASSWORD"] == NASTY
    assert env[f"{prefix}_USERNAME"] == "relation-7"
    assert NASTY not in env[f"{prefix}_CONNECT_STRING"]
    assert env[f"{prefix}_NAME"] == "flask-k8s"


def test_mysql_url_is_built_from_the_first_endpoint_with_its_trailing_dot():
    answer = provider.answer("mysql", database.request(context("mysql"), {}))
    assert answer is not None

    env = environment("mysql", answer)

    assert env["MYSQL_DB_CONNECT_STRING"] == (
        "mysql://relation-7:Zx81pw@mysql-k8s-primary.m.svc.cluster.local.:3306/flask-k8s"
    )
    assert env["MYSQL_DB_HOSTNAME"] == "mysql-k8s-primary.m.svc.cluster.local."
    assert env["MYSQL_DB_PORT"] == "3306"


def test_mongodb_replica_set_uri_passes_through():
    answer = provider.answer("mongodb", database.request(context("mongodb"), {}))
    assert answer is not None

    env = environment("mongodb", answer)

    assert env["MONGODB_DB_CONNECT_STRING"] == (
        "mongodb://relation-7:Zx81pw@mongo-0.mongo:27017,mongo-1.mongo:27017/flask-k8s"
        "?replicaSet=mongo&authSource=admin"
    )
    assert env["MONGODB_DB_HOSTNAME"] == "mongo-0.mongo"
    assert env["MONGODB_DB_QUERY"] == "replicaSet=mongo&authSource=admin"


MONGODB_URI = (
    "mongodb://relation-68:Zx81pw@mongodb-k8s-0.mongodb-k8s-endpoints:27017/flask-k8s"
    "?replicaSet=mongodb-k8s&authSource=admin"
)


def test_mongodb_uris_alone_gives_what_paas_charm_gives():
    # No endpoints, no separate username and password: paas-charm uses the URI as sent.
    app = {"database": "flask-k8s", "secret-user": "secret:u"}
    data = relation.RemoteData(relation_id=1, app=app)

    env = database.environment(
        context("mongodb"), data, helpers.reader({"secret:u": {"uris": MONGODB_URI}})
    )

    assert env == {
        "MONGODB_DB_CONNECT_STRING": MONGODB_URI,
        "MONGODB_DB_SCHEME": "mongodb",
        "MONGODB_DB_NETLOC": "relation-68:Zx81pw@mongodb-k8s-0.mongodb-k8s-endpoints:27017",
        "MONGODB_DB_PATH": "/flask-k8s",
        "MONGODB_DB_PARAMS": "",
        "MONGODB_DB_QUERY": "replicaSet=mongodb-k8s&authSource=admin",
        "MONGODB_DB_FRAGMENT": "",
        "MONGODB_DB_USERNAME": "relation-68",
        "MONGODB_DB_PASSWORD": "Zx81pw",
        "MONGODB_DB_HOSTNAME": "mongodb-k8s-0.mongodb-k8s-endpoints",
        "MONGODB_DB_PORT": "27017",
        "MONGODB_DB_NAME": "flask-k8s",
    }


def test_uris_alone_in_plain_text_names_the_database_by_its_path():
    app = {"uris": "mongodb://relation-68:Zx81pw@h1:27017,h2:27017/orders?replicaSet=rs"}
    data = relation.RemoteData(relation_id=1, app=app)

    env = database.environment(context("mongodb"), data, helpers.reader({}))

    assert env["MONGODB_DB_CONNECT_STRING"] == app["uris"]
    assert env["MONGODB_DB_HOSTNAME"] == "h1"
    assert env["MONGODB_DB_NAME"] == "orders"


@pytest.mark.parametrize("endpoint", ["postgresql", "mysql", "mongodb"])
@pytest.mark.parametrize("secrets", [True, False], ids=["secret", "plain"])
def test_uris_alone_is_used_for_every_database(endpoint, secrets):
    request = database.request(context(endpoint), {})
    if not secrets:
        request = {"database": request["database"]}
    answer = provider.answer(endpoint, request, uris_only=True)
    assert answer is not None and "endpoints" not in answer.app

    env = environment(endpoint, answer)

    prefix = endpoint.upper() + "_DB"
    assert env[f"{prefix}_CONNECT_STRING"].startswith(f"{endpoint}://relation-7:Zx81pw@")
    assert env[f"{prefix}_USERNAME"] == "relation-7"
    assert env[f"{prefix}_PASSWORD"] == "Zx81pw"
    assert env[f"{prefix}_NAME"] == "flask-k8s"


def test_uris_without_endpoints_still_get_known_credentials_encoded():
    uri = f"postgresql://relation-7:{NASTY}@db:5432/flask-k8s"
    app = {"database": "flask-k8s", "secret-user": "secret:u"}
    user = {"username": "relation-7", "password": NASTY, "uris": uri}
    data = relation.RemoteData(relation_id=1, app=app)

    env = database.environment(context(), data, helpers.reader({"secret:u": user}))

    assert env["POSTGRESQL_DB_PASSWORD"] == NASTY
    assert NASTY not in env["POSTGRESQL_DB_CONNECT_STRING"]
    assert env["POSTGRESQL_DB_HOSTNAME"] == "db"


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://relation-7:pw#Kq2@mongo-0:27017/flask-k8s",  # A raw "#", no known password.
        "mongodb://relation-7:pw-Kq2@[mongo-0/flask-k8s",
        "mongodb://relation-7:pw-Kq2@/flask-k8s",
        "mongodb://",
        "relation-7:pw-Kq2",
        "//relation-7:pw-Kq2@mongo-0/flask-k8s",
    ],
)
def test_an_unusable_uri_is_invalid_data_naming_the_field_only(uri):
    app = {"database": "flask-k8s", "secret-user": "secret:u"}
    data = relation.RemoteData(relation_id=1, app=app)

    with pytest.raises(relation.InvalidData) as invalid:
        database.environment(context("mongodb"), data, helpers.reader({"secret:u": {"uris": uri}}))

    assert invalid.value.message.startswith("uris ")
    assert "Kq2" not in invalid.value.message
    assert "relation-7" not in invalid.value.message


def test_plain_text_credentials_are_read_when_no_secrets_were_requested():
    answer = provider.answer("postgresql", {"database": "flask-k8s"})
    assert answer is not None and not answer.secrets

    env = environment("postgresql", answer)

    assert env["POSTGRESQL_DB_PASSWORD"] == "Zx81pw"


def test_the_database_the_provider_created_wins_over_the_request():
    answer = provider.answer("postgresql", {**database.request(context(), {}), "database": "x"})
    assert answer is not None

    assert environment("postgresql", answer)["POSTGRESQL_DB_NAME"] == "x"


def test_subordinate_provider_is_waited_for_until_a_unit_is_ready():
    answer = provider.answer("mysql", database.request(context("mysql"), {}), subordinated=True)
    assert answer is not None
    assert environment("mysql", answer)["MYSQL_DB_PORT"] == "3306"

    not_ready = dataclasses.replace(answer, units={"router/0": {"state": "starting"}})
    with pytest.raises(relation.NotReady):
        environment("mysql", not_ready)


@pytest.mark.parametrize(
    "app",
    [
        {},
        {"database": "flask-k8s"},
        {"endpoints": "db:5432", "username": "u"},
        {"endpoints": "db:5432", "password": "p"},
        {"endpoints": "", "username": "u", "password": "p"},
    ],
)
def test_an_incomplete_answer_is_waited_for(app):
    with pytest.raises(relation.NotReady):
        database.environment(
            context(), relation.RemoteData(relation_id=1, app=app), helpers.reader({})
        )


@pytest.mark.parametrize(
    ("app", "secrets"),
    [
        ({"endpoints": "db:port", "username": "u", "password": "p"}, {}),
        ({"endpoints": "db:5432", "secret-user": "secret:gone"}, {}),
        (
            {"endpoints": "db:5432", "username": "u", "password": "p", "uris": "x://[bad"},
            {},
        ),
    ],
)
def test_an_unusable_answer_is_invalid_data(app, secrets):
    with pytest.raises(relation.InvalidData):
        database.environment(
            context(), relation.RemoteData(relation_id=1, app=app), helpers.reader(secrets)
        )


def test_unreadable_secret_is_named_by_its_field_without_its_content():
    data = relation.RemoteData(relation_id=1, app={"endpoints": "db:1", "secret-user": "secret:x"})

    with pytest.raises(relation.InvalidData) as invalid:
        database.environment(context(), data, helpers.reader({}))

    assert "secret-user" in invalid.value.message


# Through the charm, against the provider model.


def test_two_sided_postgresql_through_the_charm(ctx, charm_state):
    created = testing.Relation("postgresql")
    out = ctx.run(ctx.on.relation_created(created), charm_state(created))
    request = dict(out.get_relation(created.id).local_app_data)

    answer = provider.answer("postgresql", request, password=NASTY)
    assert answer is not None
    out = helpers.answer_through_charm(ctx, charm_state, created, answer)

    env = helpers.flask_env(out)
    assert env["POSTGRESQL_DB_PASSWORD"] == NASTY
    assert env["POSTGRESQL_DB_NAME"] == "flask-k8s"
    assert out.unit_status == testing.ActiveStatus()


def test_only_the_leader_writes_the_request(ctx, charm_state):
    rel = testing.Relation("postgresql")

    out = ctx.run(
        ctx.on.relation_created(rel), dataclasses.replace(charm_state(rel), leader=False)
    )

    assert out.get_relation(rel.id).local_app_data == {}


def test_a_provider_still_answering_leaves_the_app_running_and_waits(ctx, charm_state):
    rel = testing.Relation("postgresql", remote_app_data={"database": "flask-k8s"})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel))

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: postgresql")
    assert "POSTGRESQL_DB_CONNECT_STRING" not in helpers.flask_env(out)
    assert out.get_container("flask-app").service_statuses["flask"].value == "active"


def test_an_unusable_answer_blocks_without_showing_the_password(ctx, charm_state):
    user = testing.Secret({"username": "u", "password": "hunter2-secret"}, owner=None)
    rel = testing.Relation(
        "postgresql",
        remote_app_data={"endpoints": "db:notaport", "secret-user": user.id or ""},
    )

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), charm_state(rel, secrets=[user]))

    assert out.unit_status == testing.BlockedStatus(
        "postgresql relation: endpoint 'db:notaport' has an invalid port"
    )
    assert "hunter2" not in out.unit_status.message


def test_credentials_are_used_exactly_as_sent():
    user = {"username": " padded ", "password": "pw"}
    app = {"endpoints": "db:5432", "secret-user": "secret:u"}

    env = database.environment(
        context(), relation.RemoteData(relation_id=1, app=app), helpers.reader({"secret:u": user})
    )

    assert env["POSTGRESQL_DB_USERNAME"] == " padded "


def test_two_sided_mongodb_answering_with_uris_alone_through_the_charm(ctx, charm_state):
    created = testing.Relation("mongodb")
    out = ctx.run(ctx.on.relation_created(created), charm_state(created))
    request = dict(out.get_relation(created.id).local_app_data)

    answer = provider.answer("mongodb", request, uris_only=True)
    assert answer is not None
    out = helpers.answer_through_charm(ctx, charm_state, created, answer)

    env = helpers.flask_env(out)
    assert out.unit_status == testing.ActiveStatus()
    assert env["MONGODB_DB_CONNECT_STRING"] == (
        "mongodb://relation-7:Zx81pw@mongo-0.mongo:27017,mongo-1.mongo:27017/flask-k8s"
        "?replicaSet=mongo&authSource=admin"
    )
    assert env["MONGODB_DB_QUERY"] == "replicaSet=mongo&authSource=admin"
