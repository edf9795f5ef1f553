"""The environment into app.config: FLASK_* variables and what each integration's stand for.

Pins JSON decoding and ``A__B`` nesting of FLASK_* variables, the precedence of the app's own
keys, the database URL with the installed driver, Redis/Valkey and the cache keys, SMTP as
Flask-Mail's keys, the copied S3/SAML/FGA variables, SECRET_KEY_FALLBACKS as a list, the
library's defaults and the Dockerflow aliases.
"""

from __future__ import annotations

import collections.abc
import pathlib
import typing

import flask
import pytest

import flask_k8s_app
from flask_k8s_app import _settings
from tests.unit.app import helpers


def _config(
    environ: collections.abc.Mapping[str, str],
    overrides: collections.abc.Mapping[str, typing.Any] | None = None,
    name: str = "shop",
) -> flask.Config:
    app = flask.Flask(name)
    flask_k8s_app.load_config(app, environ=environ, overrides=overrides)
    return app.config


# -- FLASK_* ------------------------------------------------------------------------------------


def test_flask_variables_are_loaded_with_their_json_values_decoded():
    config = _config(
        {
            "FLASK_TOKEN": "hello",
            "FLASK_DEBUG": "true",
            "FLASK_PAGE_SIZE": "30",
            "FLASK_RATIO": "0.5",
            "FLASK_ADMINS": '["a@example.com", "b@example.com"]',
            "FLASK_EMPTY": "",
            "FLASK_NULL": "null",
        }
    )

    assert config["TOKEN"] == "hello"
    assert config["DEBUG"] is True
    assert config["PAGE_SIZE"] == 30
    assert config["RATIO"] == 0.5
    assert config["ADMINS"] == ["a@example.com", "b@example.com"]
    assert config["EMPTY"] == ""
    assert config["NULL"] is None


def test_a_double_underscore_sets_a_key_inside_a_dict():
    config = _config(
        {
            "FLASK_SQLALCHEMY_ENGINE_OPTIONS__pool_size": "5",
            "FLASK_SQLALCHEMY_ENGINE_OPTIONS__echo": "true",
            "FLASK_A__B__C": "deep",
        }
    )

    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 5, "echo": True}
    assert config["A"] == {"B": {"C": "deep"}}


def test_flask_app_and_flask_run_from_cli_are_not_settings():
    config = _config({"FLASK_APP": "app:app", "FLASK_RUN_FROM_CLI": "true"})

    assert "APP" not in config
    assert "RUN_FROM_CLI" not in config


def test_variables_without_the_flask_prefix_are_not_loaded_as_such():
    config = _config({"TOKEN": "hello", "HOME": "/root"})

    assert "TOKEN" not in config
    assert "HOME" not in config


def test_the_overrides_win_over_the_environment():
    config = _config({"FLASK_TOKEN": "from-env"}, overrides={"TOKEN": "from-code"})

    assert config["TOKEN"] == "from-code"


def test_the_extension_reads_the_processs_environment(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FLASK_TOKEN", '{"nested": 1}')
    monkeypatch.setenv("POSTGRESQL_DB_CONNECT_STRING", "postgresql://u:p@db:5432/shop")
    app = flask.Flask("shop", root_path=str(tmp_path))
    app.config.update(helpers.BASE_CONFIG)

    flask_k8s_app.FlaskK8s(app, logging=False, builtin_checks=False)

    assert app.config["TOKEN"] == {"nested": 1}
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db:5432/shop"


def test_config_loaded_before_the_extension_is_not_loaded_again(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    app = flask.Flask("shop", root_path=str(tmp_path))
    flask_k8s_app.load_config(app, environ={}, overrides={**helpers.BASE_CONFIG, "TOKEN": "x"})
    monkeypatch.setenv("FLASK_TOKEN", "from-env-later")

    flask_k8s_app.FlaskK8s(app, logging=False)

    assert app.config["TOKEN"] == "x"


# -- the database ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "url", "expected"),
    [
        (
            "POSTGRESQL_DB_CONNECT_STRING",
            "postgresql://u:p@db:5432/shop",
            "postgresql+psycopg://u:p@db:5432/shop",
        ),
        (
            "POSTGRESQL_DB_CONNECT_STRING",
            "postgres://u:p@db:5432/shop",
            "postgresql+psycopg://u:p@db:5432/shop",
        ),
        (
            "POSTGRESQL_DB_CONNECT_STRING",
            "postgresql+asyncpg://u:p@db/shop",
            "postgresql+asyncpg://u:p@db/shop",
        ),
        # Neither PyMySQL nor mysqlclient is installed here: the URL stays as it is.
        ("MYSQL_DB_CONNECT_STRING", "mysql://u:p@db:3306/shop", "mysql://u:p@db:3306/shop"),
    ],
)
def test_the_database_url_names_the_installed_driver(variable: str, url: str, expected: str):
    config = _config({variable: url})

    assert config["SQLALCHEMY_DATABASE_URI"] == expected
    # A database that does not answer fails the heartbeat's check in time.
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True,
        "connect_args": {"connect_timeout": 2},
    }


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ({"pymysql", "MySQLdb"}, "mysql+pymysql://u:p@db/shop"),
        ({"MySQLdb"}, "mysql+mysqldb://u:p@db/shop"),
        (set(), "mysql://u:p@db/shop"),
    ],
    ids=["pymysql first", "mysqlclient", "no driver"],
)
def test_a_mysql_url_names_pymysql_else_mysqlclient(installed: set[str], expected: str):
    assert _settings.sql_url("mysql://u:p@db/shop", installed.__contains__) == expected


def test_psycopg_3_is_preferred_to_psycopg2_for_postgresql():
    url = "postgresql://u:p@db/shop"

    assert _settings.sql_url(url, {"psycopg", "psycopg2"}.__contains__) == (
        "postgresql+psycopg://u:p@db/shop"
    )
    assert _settings.sql_url(url, {"psycopg2"}.__contains__) == (
        "postgresql+psycopg2://u:p@db/shop"
    )


def test_a_text_that_is_not_a_url_is_left_as_it_is():
    assert _settings.sql_url("not a url") == "not a url"


def test_postgresql_is_used_when_both_databases_are_related():
    config = _config(
        {
            "MYSQL_DB_CONNECT_STRING": "mysql://u:p@my/shop",
            "POSTGRESQL_DB_CONNECT_STRING": "postgresql://u:p@pg/shop",
        }
    )

    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@pg/shop"


def test_a_database_url_set_through_flask_wins_over_the_integration():
    config = _config(
        {
            "FLASK_SQLALCHEMY_DATABASE_URI": "sqlite:///local.db",
            "POSTGRESQL_DB_CONNECT_STRING": "postgresql://u:p@pg/shop",
        }
    )

    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///local.db"


def test_without_a_database_there_is_no_database_url():
    assert "SQLALCHEMY_DATABASE_URI" not in _config({})


# -- Redis, Valkey and the cache ---------------------------------------------------------------


def test_redis_gives_redis_url_and_a_redis_cache():
    config = _config({"REDIS_DB_CONNECT_STRING": "redis://:pw@redis:6379/0"})

    assert config["REDIS_URL"] == "redis://:pw@redis:6379/0"
    assert config["CACHE_TYPE"] == "RedisCache"
    assert config["CACHE_REDIS_URL"] == "redis://:pw@redis:6379/0"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("valkey://:pw@valkey:6379/0", "redis://:pw@valkey:6379/0"),
        ("valkeys://:pw@valkey:6380/0", "rediss://:pw@valkey:6380/0"),
        ("VALKEY://valkey:6379", "redis://valkey:6379"),
    ],
)
def test_a_valkey_url_is_given_in_the_form_redis_py_reads(url: str, expected: str):
    config = _config({"VALKEY_DB_CONNECT_STRING": url})

    assert config["REDIS_URL"] == expected
    assert config["CACHE_REDIS_URL"] == expected


def test_redis_is_used_when_both_redis_and_valkey_are_related():
    config = _config(
        {
            "VALKEY_DB_CONNECT_STRING": "valkey://valkey:6379",
            "REDIS_DB_CONNECT_STRING": "redis://redis:6379",
        }
    )

    assert config["REDIS_URL"] == "redis://redis:6379"


def test_without_redis_the_cache_is_in_memory_and_there_is_no_redis_url():
    config = _config({})

    assert config["CACHE_TYPE"] == "SimpleCache"
    assert "REDIS_URL" not in config
    assert config["CACHE_DEFAULT_TIMEOUT"] == 300


def test_cache_keys_are_prefixed_with_the_service_name_else_the_app_name():
    assert _config({}, name="shop")["CACHE_KEY_PREFIX"] == "shop-"
    assert _config({"OTEL_SERVICE_NAME": "shop-k8s"})["CACHE_KEY_PREFIX"] == "shop-k8s-"


def test_rabbitmq_gives_rabbitmq_url():
    config = _config({"RABBITMQ_CONNECT_STRING": "amqp://u:p@rmq:5672/vhost"})

    assert config["RABBITMQ_URL"] == "amqp://u:p@rmq:5672/vhost"
    assert "RABBITMQ_URL" not in _config({})


# -- copied variables --------------------------------------------------------------------------


def test_s3_saml_and_fga_variables_are_copied_as_they_are_when_set():
    config = _config(
        {
            "S3_BUCKET": "media",
            "S3_ENDPOINT": "https://s3.example.com",
            "SAML_ENTITY_ID": "https://idp.example.com",
            "FGA_STORE_ID": "01H",
            "S3_EMPTY": "",
            "OTHER_THING": "x",
        }
    )

    assert config["S3_BUCKET"] == "media"
    assert config["S3_ENDPOINT"] == "https://s3.example.com"
    assert config["SAML_ENTITY_ID"] == "https://idp.example.com"
    assert config["FGA_STORE_ID"] == "01H"
    assert "S3_EMPTY" not in config
    assert "OTHER_THING" not in config


# -- SMTP -------------------------------------------------------------------------------------


def test_smtp_variables_become_flask_mails_keys():
    config = _config(
        {
            "SMTP_HOST": "smtp.example.com",
            "SMTP_PORT": "587",
            "SMTP_USER": "mailer",
            "SMTP_PASSWORD": "pw",
            "SMTP_DOMAIN": "example.com",
            "SMTP_TRANSPORT_SECURITY": "starttls",
        }
    )

    mail = {key: value for key, value in config.items() if key.startswith("MAIL_")}
    assert mail == {
        "MAIL_SERVER": "smtp.example.com",
        "MAIL_PORT": 587,
        "MAIL_USE_TLS": True,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "mailer@example.com",
        "MAIL_PASSWORD": "pw",
        "MAIL_DEFAULT_SENDER": "no-reply@example.com",
    }


@pytest.mark.parametrize(
    ("security", "tls", "ssl"),
    [
        ("tls", False, True),
        ("STARTTLS", True, False),
        ("none", False, False),
        (None, False, False),
    ],
)
def test_smtp_transport_security_chooses_starttls_or_tls(
    security: str | None, tls: bool, ssl: bool
):
    environ = {"SMTP_HOST": "smtp.example.com"}
    if security is not None:
        environ["SMTP_TRANSPORT_SECURITY"] = security

    config = _config(environ)

    assert (config["MAIL_USE_TLS"], config["MAIL_USE_SSL"]) == (tls, ssl)


def test_an_smtp_user_with_a_domain_of_its_own_keeps_it():
    config = _config(
        {"SMTP_HOST": "smtp", "SMTP_USER": "bot@other.org", "SMTP_DOMAIN": "example.com"}
    )

    assert config["MAIL_USERNAME"] == "bot@other.org"
    assert config["MAIL_PASSWORD"] == ""


def test_smtp_without_a_user_domain_or_numeric_port_sets_only_what_it_has():
    config = _config({"SMTP_HOST": "smtp", "SMTP_PORT": "submission"})

    assert sorted(key for key in config if key.startswith("MAIL_")) == [
        "MAIL_SERVER",
        "MAIL_USE_SSL",
        "MAIL_USE_TLS",
    ]


def test_without_an_smtp_host_there_are_no_mail_keys():
    config = _config({"SMTP_USER": "mailer", "SMTP_PORT": "25"})

    assert not [key for key in config if key.startswith("MAIL_")]


# -- the secret key's fallbacks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["old-1", "old-2"]', ["old-1", "old-2"]),
        ("old-key", ["old-key"]),
        ('"quoted-old-key"', ["quoted-old-key"]),
        ("12345", ["12345"]),
        ("", []),
    ],
)
def test_secret_key_fallbacks_is_always_a_list_of_strings(value: str, expected: list[str]):
    config = _config({"FLASK_SECRET_KEY_FALLBACKS": value})

    assert config["SECRET_KEY_FALLBACKS"] == expected


def test_secret_key_fallbacks_given_in_code_as_one_string_or_a_tuple_become_a_list():
    assert _config({}, overrides={"SECRET_KEY_FALLBACKS": "old"})["SECRET_KEY_FALLBACKS"] == [
        "old"
    ]
    assert _config({}, overrides={"SECRET_KEY_FALLBACKS": ("a", "b")})["SECRET_KEY_FALLBACKS"] == [
        "a",
        "b",
    ]
    assert _config({}, overrides={"SECRET_KEY_FALLBACKS": '["a", "b"]'})[
        "SECRET_KEY_FALLBACKS"
    ] == ["a", "b"]
    assert _config({})["SECRET_KEY_FALLBACKS"] == []


def test_a_fallback_key_signs_in_old_sessions(tmp_path: pathlib.Path):
    old = flask.Flask("old", root_path=str(tmp_path))
    old.secret_key = "old-key"

    @old.post("/")
    def store() -> str:
        flask.session["user"] = "alice"
        return ""

    old_client = old.test_client()
    old_client.post("/")
    cookie = old_client.get_cookie("session")
    assert cookie is not None
    new = flask.Flask("new", root_path=str(tmp_path))
    flask_k8s_app.load_config(
        new, environ={"FLASK_SECRET_KEY": "new-key", "FLASK_SECRET_KEY_FALLBACKS": "old-key"}
    )

    @new.get("/")
    def read() -> str:
        return str(flask.session.get("user"))

    new_client = new.test_client()
    new_client.set_cookie("session", cookie.value)

    assert new_client.get("/").text == "alice"


# -- the library's own settings ----------------------------------------------------------------


def test_the_librarys_settings_have_their_defaults():
    config = _config({})

    assert {key: config[key] for key in _settings.DEFAULTS} == {
        "K8S_HEARTBEAT_FAILED_STATUS_CODE": 500,
        "K8S_CHECK_TIMEOUT": 2.0,
        "K8S_HEARTBEAT_CACHE_SECONDS": 1.0,
        "K8S_HEARTBEAT_DETAILS": None,
        "K8S_SILENCED_CHECKS": (),
        "K8S_REQUIRE_MIGRATIONS": False,
        "K8S_VERSION_PATH": None,
        "K8S_ENABLE_ERROR_ENDPOINT": False,
        "K8S_REQUEST_ID_HEADER": "X-Request-ID",
        "K8S_LOG_FORMAT": None,
        "K8S_LOG_LEVEL": None,
        "K8S_SUMMARY_LOG": True,
        "K8S_SUMMARY_LOG_QUERYSTRING": False,
        "K8S_STATSD_HOST": "localhost:9125",
        "K8S_METRICS": True,
        "K8S_TRACING": None,
    }


def test_a_setting_is_set_through_its_flask_variable():
    config = _config({"FLASK_K8S_HEARTBEAT_FAILED_STATUS_CODE": "503"})

    assert config["K8S_HEARTBEAT_FAILED_STATUS_CODE"] == 503


@pytest.mark.parametrize(
    ("alias", "key", "value"),
    [
        ("DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", "K8S_HEARTBEAT_FAILED_STATUS_CODE", 503),
        ("DOCKERFLOW_REQUEST_ID_HEADER_NAME", "K8S_REQUEST_ID_HEADER", "X-Trace"),
        ("DOCKERFLOW_SUMMARY_LOG_QUERYSTRING", "K8S_SUMMARY_LOG_QUERYSTRING", True),
    ],
)
def test_dockerflows_setting_names_are_honoured(alias: str, key: str, value: object):
    assert _config({}, overrides={alias: value})[key] == value


def test_the_k8s_name_wins_over_the_dockerflow_alias():
    config = _config(
        {},
        overrides={
            "DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE": 503,
            "K8S_HEARTBEAT_FAILED_STATUS_CODE": 418,
        },
    )

    assert config["K8S_HEARTBEAT_FAILED_STATUS_CODE"] == 418


def test_the_dockerflow_failure_status_answers_a_failing_heartbeat(tmp_path: pathlib.Path):
    app = flask.Flask("shop", root_path=str(tmp_path))
    app.config.update(helpers.BASE_CONFIG)
    app.config["DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE"] = 503
    ext = flask_k8s_app.FlaskK8s(app, logging=False)
    ext.add_check("db", lambda: [flask_k8s_app.Error("down", id="db.E1")])

    assert helpers.heartbeat(app)[0] == 503


# -- helpers the settings are read with --------------------------------------------------------


def test_a_url_in_a_message_shows_no_password():
    assert _settings.without_credentials("postgresql://app:s3cret@db:5432/shop") == (
        "postgresql://app:***@db:5432/shop"
    )
    assert _settings.without_credentials("redis://:s3cret@redis:6379/0") == (
        "redis://:***@redis:6379/0"
    )
    assert _settings.without_credentials("redis://redis:6379/0") == "redis://redis:6379/0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:9125", ("127.0.0.1", 9125)),
        (":9125", ("localhost", 9125)),
        ("statsd", None),
        ("statsd:port", None),
        (None, None),
    ],
)
def test_the_statsd_host_is_host_colon_port(value: object, expected: tuple[str, int] | None):
    assert _settings.statsd_address(value) == expected
