"""create_app: the app factory, its built-in extensions and the order they load in.

Pins the config precedence, the fixed order of the built-ins with the app's own after them,
what ``flask_k8s_app.extension`` gives back, the errors for an unknown or unusable extension,
and each built-in: log, security headers, CORS, the database with migrations, the cache.
"""

from __future__ import annotations

import collections.abc
import logging
import pathlib
import time
import types
import typing

import flask
import pytest
import redis

import flask_k8s_app
from flask_k8s_app import _logs
from tests.unit.app import helpers


def _create(
    root: pathlib.Path,
    extensions: collections.abc.Iterable[str | object] = (),
    config: collections.abc.Mapping[str, typing.Any] | None = None,
) -> flask.Flask:
    return flask_k8s_app.create_app(
        "made",
        extensions=extensions,
        config={**helpers.BASE_CONFIG, **(config or {})},
        root_path=str(root),
    )


class Recorder:
    """An extension that notes when it was loaded, under a name of its choosing."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def init_app(self, app: flask.Flask) -> str:
        self.log.append(self.name)
        return f"{self.name} for {app.name}"


# -- the factory --------------------------------------------------------------------------------


def test_the_app_is_configured_from_the_environment_then_the_config_given(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FLASK_TOKEN", "from-env")
    monkeypatch.setenv("FLASK_COLOUR", "blue")

    app = _create(tmp_path, config={"TOKEN": "from-code"})

    assert app.config["TOKEN"] == "from-code"
    assert app.config["COLOUR"] == "blue"
    assert app.root_path == str(tmp_path)
    assert app.test_client().get("/__lbheartbeat__").status_code == 200


def test_builtins_load_in_their_order_whatever_the_list_then_the_apps_own_in_its_order(
    tmp_path: pathlib.Path,
):
    loaded: list[str] = []
    listed = ["cache", "alpha", "db", "log", "zeta", "security", "cors"]

    _create(tmp_path, [Recorder(name, loaded) for name in listed])

    assert loaded == ["log", "security", "cors", "db", "cache", "alpha", "zeta"]


def test_extension_gives_back_what_init_app_returned(tmp_path: pathlib.Path):
    app = _create(tmp_path, [Recorder("payments", [])])

    assert flask_k8s_app.extension("payments", app) == "payments for made"
    with app.app_context():
        assert flask_k8s_app.extension("payments") == "payments for made"
    assert isinstance(flask_k8s_app.extension("k8s", app), flask_k8s_app.FlaskK8s)


def test_asking_for_an_extension_that_was_not_loaded_names_it(tmp_path: pathlib.Path):
    app = _create(tmp_path)
    plain, _ = helpers.make_app(tmp_path)

    with pytest.raises(KeyError, match="no extension 'payments' was loaded by create_app"):
        flask_k8s_app.extension("payments", app)
    with pytest.raises(KeyError, match="no extension 'db' was loaded"):
        flask_k8s_app.extension("db", plain)


def test_a_module_extension_is_known_by_its_modules_last_name(tmp_path: pathlib.Path):
    module = types.ModuleType("shop.extensions.payments")
    module.init_app = lambda app: f"payments module for {app.name}"  # type: ignore[attr-defined]

    app = _create(tmp_path, [module])

    assert flask_k8s_app.extension("payments", app) == "payments module for made"


def test_an_extension_without_a_name_is_known_by_its_class_name(tmp_path: pathlib.Path):
    class Payments:
        def init_app(self, app: flask.Flask) -> str:
            return "anonymous"

    app = _create(tmp_path, [Payments()])

    assert flask_k8s_app.extension("payments", app) == "anonymous"


def test_an_unknown_builtin_name_is_refused_with_the_builtins_listed(tmp_path: pathlib.Path):
    with pytest.raises(ValueError, match="no built-in extension 'sentry'; the built-ins: log, "):
        _create(tmp_path, ["sentry"])


def test_an_extension_without_init_app_is_refused(tmp_path: pathlib.Path):
    class Broken:
        name = "broken"

    with pytest.raises(TypeError, match="extension 'broken' has no init_app"):
        _create(tmp_path, [Broken()])


# -- log ----------------------------------------------------------------------------------------


def test_the_library_logs_only_when_log_is_listed(tmp_path: pathlib.Path):
    def installed() -> int:
        return sum(isinstance(h, _logs.Handler) for h in logging.getLogger().handlers)

    app = _create(tmp_path, ["security"])
    assert installed() == 0

    logged = _create(tmp_path, ["log"])

    assert installed() == 1
    assert flask_k8s_app.extension("log", logged) is None
    assert "log" not in app.extensions[flask_k8s_app._factory.LOADED]


# -- security headers ---------------------------------------------------------------------------


def test_every_response_gets_secure_headers_and_no_hsts_over_plain_http(tmp_path: pathlib.Path):
    app = _create(tmp_path, ["security"])

    response = app.test_client().get("/__lbheartbeat__")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'self'; object-src 'none'; frame-ancestors 'self'; base-uri 'self'"
    )
    assert "Strict-Transport-Security" not in response.headers
    # Pebble probes over plain HTTP: never a redirect to HTTPS.
    assert response.status_code == 200
    assert isinstance(flask_k8s_app.extension("security", app), flask_k8s_app.SecurityHeaders)


def test_hsts_is_sent_on_a_request_that_came_over_https(tmp_path: pathlib.Path):
    app = _create(tmp_path, ["security"], {"K8S_HSTS_SECONDS": 600})

    response = app.test_client().get("/__lbheartbeat__", base_url="https://shop.example.com")

    assert response.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"


def test_the_security_headers_can_be_tuned_or_turned_off(tmp_path: pathlib.Path):
    app = _create(
        tmp_path,
        ["security"],
        {"K8S_CSP": "", "K8S_FRAME_OPTIONS": "DENY", "K8S_HSTS_SECONDS": 0},
    )

    response = app.test_client().get("/__lbheartbeat__", base_url="https://shop.example.com")

    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers
    framed = _create(tmp_path, ["security"], {"K8S_FRAME_OPTIONS": ""})
    assert "X-Frame-Options" not in framed.test_client().get("/__lbheartbeat__").headers


def test_a_header_the_view_set_is_kept(tmp_path: pathlib.Path):
    app = _create(tmp_path, ["security"])

    @app.get("/embed")
    def embed() -> flask.Response:
        response = flask.Response("embeddable")
        response.headers["X-Frame-Options"] = "ALLOWALL"
        response.headers["Content-Security-Policy"] = "frame-ancestors *"
        return response

    response = app.test_client().get("/embed")

    assert response.headers["X-Frame-Options"] == "ALLOWALL"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors *"


def _session_cookie(app: flask.Flask) -> str:
    app.secret_key = "test-key"

    @app.post("/login")
    def login() -> str:
        flask.session["user"] = "alice"
        return ""

    return app.test_client().post("/login").headers["Set-Cookie"]


def test_the_session_cookie_is_http_only_and_the_apps_same_site_is_kept(
    tmp_path: pathlib.Path,
):
    cookie = _session_cookie(
        _create(tmp_path, ["security"], {"SESSION_COOKIE_SAMESITE": "Strict"})
    )

    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_the_session_cookie_is_same_site_lax_by_default(tmp_path: pathlib.Path):
    cookie = _session_cookie(_create(tmp_path, ["security"]))

    assert "SameSite=Lax" in cookie


# -- CORS ---------------------------------------------------------------------------------------


def test_cors_is_off_unless_origins_or_resources_are_configured(tmp_path: pathlib.Path):
    app = _create(tmp_path, ["cors"])

    response = app.test_client().get(
        "/__lbheartbeat__", headers={"Origin": "https://evil.example.com"}
    )

    assert "Access-Control-Allow-Origin" not in response.headers
    assert flask_k8s_app.extension("cors", app) is None


def test_cors_allows_the_configured_origins_only(tmp_path: pathlib.Path):
    app = _create(tmp_path, ["cors"], {"CORS_ORIGINS": ["https://shop.example.com"]})
    client = app.test_client()

    allowed = client.get("/__lbheartbeat__", headers={"Origin": "https://shop.example.com"})
    other = client.get("/__lbheartbeat__", headers={"Origin": "https://evil.example.com"})

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Access-Control-Allow-Origin" not in other.headers
    assert flask_k8s_app.extension("cors", app) is not None


# -- the database -------------------------------------------------------------------------------


def test_without_a_database_the_heartbeat_says_which_integration_is_missing(
    tmp_path: pathlib.Path,
):
    app = _create(tmp_path, ["db"])

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert helpers.messages(body, "database") == {
        "flask_k8s_app.E_NO_DATABASE": (
            "no database configured: integrate one (POSTGRESQL_DB_CONNECT_STRING or "
            "MYSQL_DB_CONNECT_STRING is not set)"
        )
    }


def test_the_db_extension_is_flask_sqlalchemy_on_the_related_database(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    database = tmp_path / "shop.db"
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{database}")
    app = _create(tmp_path, ["db"], {"K8S_CHECK_TIMEOUT": 5})
    db = flask_k8s_app.extension("db", app)

    with app.app_context():
        db.session.execute(db.text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
        db.session.commit()

    assert helpers.tables(database) == {"notes"}
    assert app.extensions["migrate"].directory == str(tmp_path / "migrations")
    assert helpers.heartbeat(app)[1]["checks"] == {"database": "ok", "migrations": "ok"}


def test_a_database_object_made_before_the_models_is_the_one_initialised(
    tmp_path: pathlib.Path,
):
    database = flask_k8s_app.Database()

    class Note(database.db.Model):  # type: ignore[name-defined, misc]
        __tablename__ = "notes"
        id = database.db.Column(database.db.Integer, primary_key=True)

    app = _create(tmp_path, [database], {"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    assert flask_k8s_app.extension("db", app) is database.db
    with app.app_context():
        database.db.create_all()
        database.db.session.add(Note())
        database.db.session.commit()
        assert database.db.session.query(Note).count() == 1


# -- the cache ----------------------------------------------------------------------------------


def test_the_cache_is_in_memory_without_redis_and_its_check_passes(tmp_path: pathlib.Path):
    app = _create(tmp_path, ["cache"])
    cache = flask_k8s_app.extension("cache", app)

    with app.app_context():
        cache.set("answer", 42)
        assert cache.get("answer") == 42
    assert helpers.heartbeat(app) == (
        200,
        {"status": "ok", "checks": {"cache": "ok"}, "details": {}},
    )


@pytest.mark.filterwarnings("ignore:Flask-Caching. CACHE_TYPE is set to NullCache")
def test_a_cache_that_loses_values_only_warns(tmp_path: pathlib.Path):
    app = _create(tmp_path, ["cache"], {"CACHE_TYPE": "NullCache"})

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert helpers.messages(body, "cache") == {"flask_k8s_app.W_CACHE": "cache lost a value"}


def test_an_unreachable_redis_cache_only_warns(tmp_path: pathlib.Path):
    app = _create(
        tmp_path,
        ["cache"],
        {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": f"redis://127.0.0.1:{helpers.closed_port()}/0",
            "K8S_CHECK_TIMEOUT": 5,
        },
    )

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert helpers.messages(body, "cache") == {
        "flask_k8s_app.W_CACHE": "cache round-trip failed: ConnectionError"
    }


def test_a_hung_redis_cache_only_warns_when_the_heartbeat_times_out(
    tmp_path: pathlib.Path, hung_server: int
):
    app = _create(
        tmp_path,
        ["cache"],
        {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": f"redis://127.0.0.1:{hung_server}/0",
            "K8S_CHECK_TIMEOUT": 0.2,
        },
    )

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert body["checks"] == {"cache": "warning"}
    assert helpers.messages(body, "cache") == {"flask_k8s_app.E_TIMEOUT": "no answer within 0.2s"}


def test_a_hung_redis_cache_never_holds_a_page_for_more_than_a_second(
    tmp_path: pathlib.Path, hung_server: int
):
    app = _create(
        tmp_path,
        ["cache"],
        {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": f"redis://127.0.0.1:{hung_server}/0"},
    )
    cache = flask_k8s_app.extension("cache", app)

    start = time.monotonic()
    with app.app_context(), pytest.raises(redis.TimeoutError):
        cache.get("page")

    assert time.monotonic() - start < 1.5


def test_the_apps_own_redis_cache_options_are_kept(tmp_path: pathlib.Path):
    app = _create(
        tmp_path,
        ["cache"],
        {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": "redis://127.0.0.1:6379/0",
            "CACHE_OPTIONS": {"socket_timeout": 5, "retry_on_timeout": True},
        },
    )

    assert app.config["CACHE_OPTIONS"] == {
        "socket_timeout": 5,
        "retry_on_timeout": True,
        "socket_connect_timeout": 1,
    }
