"""The example app against real PostgreSQL and Redis servers, wired the way the charm wires it.

The providers' answers (relation databags and the secret postgresql-k8s creates) point at
throwaway servers on this machine; the charm's own integration modules turn them into
POSTGRESQL_DB_CONNECT_STRING and REDIS_DB_CONNECT_STRING, and the reconcile runs migrate.sh
and the app under a real Pebble with them.
"""

from __future__ import annotations

import urllib.parse

import pytest

import flask_k8s
from flask_k8s import _interfaces as integrations
from flask_k8s._interfaces import common as relation
from tests.integration.conftest import (
    MIGRATIONS_LOG,
    PASSWORD,
    USER,
    free_port,
    request,
    wait_until,
)

SECRET_URI = "secret:d3a1kq7mp25c7b2kq3g0"


def read_secret(secrets: dict[str, dict[str, str]]) -> relation.SecretReader:
    def read(uri: str) -> dict[str, str]:
        if uri not in secrets:
            raise relation.SecretUnavailable(uri)
        return secrets[uri]

    return read


def postgresql_answer(
    port: int, database: str = "flask-k8s", password: str = PASSWORD, uris: bool = False
) -> dict[str, str]:
    """The variables the charm computes from postgresql-k8s's answer, for a local server."""
    content = {"username": USER, "password": password}
    if uris:
        # postgresql-k8s writes the credentials into the URI as they are, not encoded.
        content["uris"] = f"postgresql://{USER}:{password}@127.0.0.1:{port}/{database}"
    data = relation.RemoteData(
        relation_id=7,
        app={
            "endpoints": f"127.0.0.1:{port}",
            "database": database,
            "version": "15.18",
            "secret-user": SECRET_URI,
        },
        remote_app_name="postgresql-k8s",
    )
    context = relation.Context(
        endpoint="postgresql", interface="postgresql_client", app_name="flask-k8s"
    )
    module = integrations.load("postgresql_client")
    return module.environment(context, data, read_secret({SECRET_URI: content}))


def redis_answer(port: int) -> dict[str, str]:
    """The variables the charm computes from redis-k8s's answer, for a local server."""
    data = relation.RemoteData(
        relation_id=8,
        units={"redis-k8s/0": {"hostname": "127.0.0.1", "port": str(port)}},
        remote_app_name="redis-k8s",
    )
    context = relation.Context(endpoint="redis", interface="redis", app_name="flask-k8s")
    return integrations.load("redis").environment(context, data, read_secret({}))


def related(*answers: dict[str, str]) -> flask_k8s.Integrations:
    """What ``relations.collect`` returns for these answers."""
    environment: dict[str, str] = {}
    for answer in answers:
        environment.update(answer)
    secret_values = tuple(value for name, value in environment.items() if "PASSWORD" in name)
    return flask_k8s.Integrations(environment=environment, secret_values=secret_values)


def tables(postgresql, database: str) -> list[str]:
    """The tables in a database's public schema, with their owners: `name|owner`."""
    rows = postgresql.sql(
        "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        database,
    )
    return rows.splitlines()


def test_migration_creates_the_app_table_in_postgresql(flask_workload, postgresql, database):
    answer = postgresql_answer(postgresql.port)

    assert flask_workload.reconcile(related(answer), token="t") == "active"

    # migrate.sh connected as the relation's user, with the rock's Python and psycopg.
    assert tables(postgresql, database) == [f"migration_runs|{USER}", f"notes|{USER}"]
    runs = MIGRATIONS_LOG.read_text().splitlines()
    assert len(runs) == 1
    assert runs[0].startswith("migrated as _daemon_ with token=t at ")
    assert runs[0].endswith(" database=flask-k8s")


def test_app_writes_and_reads_postgresql_through_its_pages(flask_workload, postgresql, database):
    assert flask_workload.reconcile(related(postgresql_answer(postgresql.port))) == "active"

    assert request("POST", "/db?note=first")[0] == 200
    status, page = request("POST", "/db?note=" + urllib.parse.quote("second & last"))

    assert status == 200
    assert page == {"user": USER, "database": database, "notes": ["first", "second & last"]}
    assert request("GET", "/db") == (200, page)
    # The rows are in the real server, not in the app.
    rows = postgresql.sql("SELECT body FROM notes ORDER BY id", database)
    assert rows.splitlines() == ["first", "second & last"]


@pytest.mark.parametrize("uris", [False, True], ids=["built-url", "provider-uris"])
def test_password_with_url_special_characters_works_end_to_end(
    flask_workload, postgresql, database, uris
):
    answer = postgresql_answer(postgresql.port, uris=uris)
    url = answer["POSTGRESQL_DB_CONNECT_STRING"]
    # Encoded in the URL, decoded in its own variable.
    assert url == (
        f"postgresql://{USER}:{urllib.parse.quote(PASSWORD, safe='')}"
        f"@127.0.0.1:{postgresql.port}/flask-k8s"
    )
    assert answer["POSTGRESQL_DB_PASSWORD"] == PASSWORD

    assert flask_workload.reconcile(related(answer)) == "active"

    # The migration and the app both logged in with it over TCP, where the server checks it.
    assert tables(postgresql, database) == [f"migration_runs|{USER}", f"notes|{USER}"]
    assert request("POST", "/db?note=logged-in") == (
        200,
        {"user": USER, "database": database, "notes": ["logged-in"]},
    )


def test_wrong_password_fails_the_migration_without_showing_it(
    flask_workload, postgresql, database
):
    # The control for the test above: the server really checks the password.
    wrong = PASSWORD.replace("w", "x")

    status = flask_workload.reconcile(related(postgresql_answer(postgresql.port, password=wrong)))

    assert status.startswith("blocked: migration failed: ")
    assert f'password authentication failed for user "{USER}"' in status
    assert wrong not in status
    assert urllib.parse.quote(wrong, safe="") not in status
    assert tables(postgresql, database) == []


def test_changed_database_answer_reruns_the_migration(flask_workload, postgresql, database):
    assert flask_workload.reconcile(related(postgresql_answer(postgresql.port))) == "active"
    # The provider now answers with another database (say, after a relation was recreated).
    postgresql.sql(f'CREATE DATABASE "flask-k8s-2" OWNER "{USER}"')
    answer = postgresql_answer(postgresql.port, database="flask-k8s-2")

    assert flask_workload.reconcile(related(answer)) == "active"

    runs = MIGRATIONS_LOG.read_text().splitlines()
    assert [run.rpartition(" ")[2] for run in runs] == [
        "database=flask-k8s",
        "database=flask-k8s-2",
    ]
    assert tables(postgresql, "flask-k8s-2") == [f"migration_runs|{USER}", f"notes|{USER}"]
    wait_until(
        lambda: request("GET", "/db")[1].get("database") == "flask-k8s-2",
        "the app to use the new database",
    )


def test_app_writes_and_reads_redis_and_postgresql_together(
    flask_workload, postgresql, database, cache
):
    answer = redis_answer(cache.port)
    assert answer["REDIS_DB_CONNECT_STRING"] == f"redis://127.0.0.1:{cache.port}"

    status = flask_workload.reconcile(related(postgresql_answer(postgresql.port), answer))

    assert status == "active"
    assert request("GET", "/cache/greeting") == (200, {"key": "greeting", "value": None})
    assert request("POST", "/cache/greeting?value=hello%20there") == (
        200,
        {"key": "greeting", "value": "hello there"},
    )
    assert request("GET", "/cache/greeting") == (200, {"key": "greeting", "value": "hello there"})
    # The value is in the real server.
    assert cache.command("GET", "flask-app:greeting") == "hello there"
    assert request("POST", "/db?note=beside-redis")[1]["notes"] == ["beside-redis"]


def test_pages_answer_503_when_their_store_is_absent_or_unreachable(flask_workload):
    nothing_there = redis_answer(free_port())

    assert flask_workload.reconcile(related(nothing_there), token="alone") == "active"

    status, page = request("GET", "/db")
    assert status == 503
    assert page["error"].startswith("POSTGRESQL_DB_CONNECT_STRING is not set")
    status, page = request("POST", "/cache/greeting?value=x")
    assert status == 503
    assert page["error"].startswith("Redis: ")
    assert "Connection refused" in page["error"]
    # The rest of the app runs without them.
    assert request("GET", "/token") == (200, {"token": "alone"})
