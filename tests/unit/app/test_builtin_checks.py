"""The checks the extension registers itself: the database, Redis and Alembic migrations.

Pins when each is registered, what it reports for a reachable, an unreachable and a
misconfigured dependency (with Dockerflow's message ids and without the URL's password),
what it says when its client library is missing, and the migrations check's levels.
"""

from __future__ import annotations

import collections.abc
import json
import pathlib
import sys
import time
import typing

import flask
import pytest
import redis

import flask_k8s_app
import flask_k8s_app.migrate
from tests.unit.app import helpers

# Checks that answer by themselves: the timeout only bounds the first heartbeat, whose check
# thread may import its client library.
ANSWERING = {"K8S_CHECK_TIMEOUT": 5}


@pytest.fixture
def fake_redis() -> collections.abc.Iterator[collections.abc.Callable[[bytes], helpers.FakeRedis]]:
    servers: list[helpers.FakeRedis] = []

    def start(reply: bytes) -> helpers.FakeRedis:
        servers.append(helpers.FakeRedis(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


# -- the database -------------------------------------------------------------------------------


def test_without_a_database_or_redis_no_builtin_check_is_registered(tmp_path: pathlib.Path):
    app, _ = helpers.make_app(tmp_path)

    assert helpers.heartbeat(app) == (200, {"status": "ok", "checks": {}, "details": {}})


def test_a_reachable_database_passes_the_database_check(tmp_path: pathlib.Path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    app, _ = helpers.make_app(tmp_path, {**ANSWERING, "SQLALCHEMY_DATABASE_URI": url})

    for _ in range(2):
        code, body = helpers.heartbeat(app)

        assert code == 200
        # Without Flask-Migrate there are no migrations to compare.
        assert body["checks"] == {"database": "ok", "migrations": "ok"}


def test_an_in_memory_database_passes_the_database_check(tmp_path: pathlib.Path):
    app, _ = helpers.make_app(tmp_path, {**ANSWERING, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert body["checks"]["database"] == "ok"


def test_a_database_that_cannot_be_opened_fails_with_the_drivers_error(tmp_path: pathlib.Path):
    url = f"sqlite:///{tmp_path / 'missing-directory' / 'app.db'}"
    app, _ = helpers.make_app(tmp_path, {**ANSWERING, "SQLALCHEMY_DATABASE_URI": url})

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert helpers.messages(body, "database") == {
        "dockerflow.health.E008": "DB-API error: unable to open database file"
    }


def test_an_unreachable_postgresql_fails_the_check_without_showing_the_password(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    port = helpers.closed_port()
    monkeypatch.setenv(
        "POSTGRESQL_DB_CONNECT_STRING", f"postgresql://app:s3cr3t-pw@127.0.0.1:{port}/app"
    )
    app, _ = helpers.make_app(tmp_path, ANSWERING)

    code, body = helpers.heartbeat(app)

    assert code == 500
    ((message_id, text),) = helpers.messages(body, "database").items()
    assert message_id == "dockerflow.health.E008"
    assert text.startswith("DB-API error: ")
    assert f"port {port} failed: Connection refused" in text
    assert "s3cr3t-pw" not in json.dumps(body)


def test_a_sqlalchemy_error_that_is_not_the_drivers_is_dockerflows_e009(tmp_path: pathlib.Path):
    # A pool of one connection, held by the app: the check's connect times out in the pool.
    options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.01}
    app = flask_k8s_app.create_app(
        "pooled",
        extensions=["db"],
        config={
            **helpers.BASE_CONFIG,
            **ANSWERING,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}",
            "SQLALCHEMY_ENGINE_OPTIONS": options,
        },
        root_path=str(tmp_path),
    )
    helpers.write_migrations(tmp_path / "migrations", ["notes"])
    db = flask_k8s_app.extension("db", app)

    with app.app_context(), db.engine.connect():
        code, body = helpers.heartbeat(app)

    assert code == 500
    ((database_id, database_text),) = helpers.messages(body, "database").items()
    assert database_id == "dockerflow.health.E009"
    assert database_text.startswith('Database misconfigured: "QueuePool limit of size 1')
    # The migrations check cannot look either: it says so, below a warning.
    assert body["checks"]["migrations"] == "info"
    ((migrations_id, migrations_text),) = helpers.messages(body, "migrations").items()
    assert migrations_id == "dockerflow.health.I001"
    assert migrations_text.startswith("Can't connect to database to check migrations: QueuePool")


def test_a_database_url_sqlalchemy_cannot_load_is_reported_as_misconfigured(
    tmp_path: pathlib.Path,
):
    app, _ = helpers.make_app(
        tmp_path, {**ANSWERING, "SQLALCHEMY_DATABASE_URI": "nodriver://app:pw@127.0.0.1/app"}
    )

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert helpers.messages(body, "database") == {
        "dockerflow.health.E009": (
            'Database misconfigured: "Can\'t load plugin: sqlalchemy.dialects:nodriver"'
        )
    }


def test_without_sqlalchemy_installed_the_database_check_warns_which_extra_to_install(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    app, _ = helpers.make_app(tmp_path, {**ANSWERING, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert helpers.messages(body, "database") == {
        "flask_k8s_app.W_NOT_INSTALLED": (
            "cannot check: the database check needs sqlalchemy, which is not installed: "
            "pip install 'flask-k8s-app[db]'"
        )
    }


# -- Redis --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "scheme"),
    [("REDIS_DB_CONNECT_STRING", "redis"), ("VALKEY_DB_CONNECT_STRING", "valkey")],
)
def test_an_unreachable_redis_fails_the_check_without_showing_the_password(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, variable: str, scheme: str
):
    port = helpers.closed_port()
    monkeypatch.setenv(variable, f"{scheme}://default:s3cr3t-pw@127.0.0.1:{port}/0")
    app, _ = helpers.make_app(tmp_path, ANSWERING)

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert body["checks"] == {"redis": "error"}
    assert helpers.messages(body, "redis") == {
        "dockerflow.health.E004": (
            f"Could not connect to redis: Error 111 connecting to 127.0.0.1:{port}. "
            "Connection refused."
        )
    }
    assert "s3cr3t-pw" not in json.dumps(body)


def test_a_redis_that_answers_the_ping_with_an_error_fails_with_dockerflows_e010(
    tmp_path: pathlib.Path,
    fake_redis: collections.abc.Callable[[bytes], helpers.FakeRedis],
):
    server = fake_redis(b"-NOPERM this user has no permissions to run the 'ping' command\r\n")
    app, _ = helpers.make_app(
        tmp_path, {**ANSWERING, "REDIS_URL": f"redis://127.0.0.1:{server.port}/0"}
    )

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert helpers.messages(body, "redis") == {
        "dockerflow.health.E010": (
            "Redis error: \"this user has no permissions to run the 'ping' command\""
        )
    }
    assert [b"PING"] in server.commands


def test_a_redis_that_does_not_answer_pong_fails_with_dockerflows_e007(
    tmp_path: pathlib.Path,
    fake_redis: collections.abc.Callable[[bytes], helpers.FakeRedis],
):
    server = fake_redis(b"+LOADING\r\n")
    app, _ = helpers.make_app(
        tmp_path, {**ANSWERING, "REDIS_URL": f"redis://127.0.0.1:{server.port}/0"}
    )

    for _ in range(2):
        code, body = helpers.heartbeat(app)

        assert code == 500
        assert helpers.messages(body, "redis") == {"dockerflow.health.E007": "Redis ping failed"}
    # One connection, kept for the next heartbeat.
    assert sum(command[0] == b"HELLO" for command in server.commands) == 1


def test_a_hung_redis_is_reported_as_a_redis_timeout_within_the_heartbeat(
    tmp_path: pathlib.Path, hung_server: int
):
    app, _ = helpers.make_app(tmp_path, {"REDIS_URL": f"redis://127.0.0.1:{hung_server}/0"})
    app.config["K8S_CHECK_TIMEOUT"] = 3

    start = time.monotonic()
    code, body = helpers.heartbeat(app)

    # The check's client gives up (after 1 s) before the heartbeat does.
    assert time.monotonic() - start < 2
    assert code == 500
    assert helpers.messages(body, "redis") == {
        "dockerflow.health.E004": "Could not connect to redis: Timeout reading from socket"
    }


def test_without_redis_installed_the_redis_check_warns_which_extra_to_install(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "redis", None)
    app, _ = helpers.make_app(tmp_path, {"REDIS_URL": "redis://127.0.0.1:6379/0"})

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert helpers.messages(body, "redis") == {
        "flask_k8s_app.W_NOT_INSTALLED": (
            "cannot check: the Redis check needs redis, which is not installed: "
            "pip install 'flask-k8s-app[redis]'"
        )
    }


def test_the_extension_gives_the_app_one_redis_client_for_redis_url(tmp_path: pathlib.Path):
    port = helpers.closed_port()
    app, ext = helpers.make_app(tmp_path, {"REDIS_URL": f"redis://:pw@127.0.0.1:{port}/3"})

    with app.app_context():
        client = ext.redis
        again = ext.redis

    assert isinstance(client, redis.Redis)
    assert client is again
    settings = client.connection_pool.connection_kwargs
    assert (settings["host"], settings["port"], settings["db"]) == ("127.0.0.1", port, 3)
    assert settings["password"] == "pw"
    # A Redis that does not answer never holds a request for long.
    assert settings["socket_connect_timeout"] == 2
    assert settings["socket_timeout"] == 2


def test_asking_for_the_redis_client_without_a_redis_says_what_sets_it(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)

    with app.app_context(), pytest.raises(RuntimeError, match="REDIS_DB_CONNECT_STRING"):
        _ = ext.redis


# -- migrations ---------------------------------------------------------------------------------


def _migrated_app(
    root: pathlib.Path, config: collections.abc.Mapping[str, typing.Any] | None = None
) -> flask.Flask:
    return flask_k8s_app.create_app(
        "migrated",
        extensions=["db"],
        config={
            **helpers.BASE_CONFIG,
            **ANSWERING,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'app.db'}",
            **(config or {}),
        },
        root_path=str(root),
    )


def test_an_app_without_a_migrations_directory_has_nothing_to_apply(tmp_path: pathlib.Path):
    app = _migrated_app(tmp_path)

    assert helpers.heartbeat(app) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}, "details": {}},
    )


def test_unapplied_migrations_warn_naming_the_head(tmp_path: pathlib.Path):
    helpers.write_migrations(tmp_path / "migrations", ["notes", "tags"])
    app = _migrated_app(tmp_path)

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert helpers.messages(body, "migrations") == {
        "dockerflow.health.W001": "Unapplied migrations found: 0002"
    }


def test_a_database_behind_the_head_still_has_unapplied_migrations(tmp_path: pathlib.Path):
    helpers.write_migrations(tmp_path / "migrations", ["notes", "tags"])
    app = _migrated_app(tmp_path)
    flask_k8s_app.migrate.upgrade(app, "0001")

    _, body = helpers.heartbeat(app)

    assert helpers.messages(body, "migrations") == {
        "dockerflow.health.W001": "Unapplied migrations found: 0002"
    }


@pytest.mark.parametrize("setting", [True, "true", "1"])
def test_k8s_require_migrations_makes_unapplied_migrations_fail_the_heartbeat(
    tmp_path: pathlib.Path, setting: object
):
    helpers.write_migrations(tmp_path / "migrations", ["notes"])
    app = _migrated_app(tmp_path, {"K8S_REQUIRE_MIGRATIONS": setting})

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert helpers.messages(body, "migrations") == {
        "flask_k8s_app.E_MIGRATIONS": "Unapplied migrations found: 0001"
    }


@pytest.mark.parametrize("setting", [False, "false", "no"])
def test_k8s_require_migrations_off_keeps_them_a_warning(tmp_path: pathlib.Path, setting: object):
    helpers.write_migrations(tmp_path / "migrations", ["notes"])
    app = _migrated_app(tmp_path, {"K8S_REQUIRE_MIGRATIONS": setting})

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert list(helpers.messages(body, "migrations")) == ["dockerflow.health.W001"]


def test_a_database_at_the_head_passes_the_migrations_check(tmp_path: pathlib.Path):
    helpers.write_migrations(tmp_path / "migrations", ["notes", "tags"])
    app = _migrated_app(tmp_path, {"K8S_REQUIRE_MIGRATIONS": True})

    flask_k8s_app.migrate.upgrade(app)

    assert helpers.heartbeat(app) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}, "details": {}},
    )


def test_the_migrations_check_reads_the_apps_own_version_table(tmp_path: pathlib.Path):
    import flask_migrate
    import flask_sqlalchemy

    database = tmp_path / "app.db"
    app, _ = helpers.make_app(
        tmp_path, {**ANSWERING, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"}
    )
    db = flask_sqlalchemy.SQLAlchemy(app)
    flask_migrate.Migrate(
        app, db, directory=str(tmp_path / "migrations"), version_table="shop_versions"
    )
    helpers.write_migrations(tmp_path / "migrations", ["notes"])
    assert list(helpers.messages(helpers.heartbeat(app)[1], "migrations")) == [
        "dockerflow.health.W001"
    ]

    flask_k8s_app.migrate.upgrade(app)

    assert helpers.tables(database) == {"notes", "shop_versions"}
    assert helpers.heartbeat(app)[1]["checks"] == {"database": "ok", "migrations": "ok"}


def test_the_script_heads_are_read_once_per_process(tmp_path: pathlib.Path):
    helpers.write_migrations(tmp_path / "migrations", ["notes"])
    app = _migrated_app(tmp_path)
    assert helpers.messages(helpers.heartbeat(app)[1], "migrations") == {
        "dockerflow.health.W001": "Unapplied migrations found: 0001"
    }

    # A revision added under the running app is not looked for.
    (tmp_path / "migrations" / "versions" / "0002_tags.py").write_text(
        helpers.REVISION.format(revision="0002", down="0001", table="tags")
    )

    assert helpers.messages(helpers.heartbeat(app)[1], "migrations") == {
        "dockerflow.health.W001": "Unapplied migrations found: 0001"
    }
