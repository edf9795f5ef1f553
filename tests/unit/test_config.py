"""The config module: built-in option rules, user options and their metadata."""

import pathlib

import pytest
import yaml

from flask_k8s import _config as config
from flask_k8s import _status as status


def _parse(values: dict) -> tuple[config.FlaskConfig, config.WebserverConfig, list[str]]:
    problems = config.Problems()
    flask = config.parse_flask(values, problems)
    webserver = config.parse_webserver(values, problems)
    return flask, webserver, problems.invalid


def test_no_options_set_gives_defaults_and_no_problem():
    flask, webserver, invalid = _parse({})

    assert invalid == []
    assert flask == config.FlaskConfig(preferred_url_scheme="HTTPS")
    assert webserver == config.WebserverConfig()


def test_valid_options_are_parsed():
    flask, webserver, invalid = _parse(
        {
            "flask-env": "staging",
            "flask-debug": True,
            "flask-permanent-session-lifetime": 3600,
            "flask-application-root": "/shop",
            "flask-session-cookie-secure": False,
            "flask-preferred-url-scheme": "http",
            "flask-secret-key": "abc",
            "webserver-workers": 4,
            "webserver-threads": 2,
            "webserver-timeout": 0,
            "webserver-keepalive": 0,
            "webserver-worker-class": " GEVENT ",
        }
    )

    assert invalid == []
    assert flask == config.FlaskConfig(
        env="staging",
        debug=True,
        permanent_session_lifetime=3600,
        application_root="/shop",
        session_cookie_secure=False,
        preferred_url_scheme="HTTP",
        secret_key="abc",
    )
    assert webserver == config.WebserverConfig(
        workers=4, threads=2, timeout=0, keepalive=0, worker_class="gevent"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"flask-env": ""}, "flask-env must not be empty"),
        ({"flask-env": "   "}, "flask-env must not be empty"),
        ({"flask-env": 3}, "flask-env must be a string"),
        ({"flask-debug": "yes"}, "flask-debug must be true or false"),
        ({"flask-session-cookie-secure": 1}, "flask-session-cookie-secure must be true or false"),
        (
            {"flask-permanent-session-lifetime": 0},
            "flask-permanent-session-lifetime must be at least 1",
        ),
        (
            {"flask-permanent-session-lifetime": "10"},
            "flask-permanent-session-lifetime must be an integer",
        ),
        (
            {"flask-permanent-session-lifetime": True},
            "flask-permanent-session-lifetime must be an integer",
        ),
        (
            {"flask-application-root": "shop"},
            "flask-application-root must be a path starting with /",
        ),
        ({"flask-application-root": ""}, "flask-application-root must not be empty"),
        (
            {"flask-preferred-url-scheme": "ftp"},
            "flask-preferred-url-scheme must be HTTP or HTTPS",
        ),
        ({"flask-preferred-url-scheme": ""}, "flask-preferred-url-scheme must not be empty"),
        ({"flask-secret-key": ""}, "flask-secret-key must not be empty"),
        ({"flask-secret-key-id": " "}, "flask-secret-key-id must not be empty"),
        (
            {"flask-secret-key": "a", "flask-secret-key-id": "secret:x"},
            "set only one of flask-secret-key and flask-secret-key-id",
        ),
        ({"webserver-workers": 0}, "webserver-workers must be at least 1"),
        ({"webserver-threads": 0}, "webserver-threads must be at least 1"),
        ({"webserver-threads": 1.5}, "webserver-threads must be an integer"),
        ({"webserver-timeout": -1}, "webserver-timeout must be at least 0"),
        ({"webserver-keepalive": -1}, "webserver-keepalive must be at least 0"),
        ({"webserver-worker-class": "eventlet"}, "webserver-worker-class must be sync or gevent"),
        ({"webserver-worker-class": ""}, "webserver-worker-class must not be empty"),
    ],
)
def test_each_bad_value_is_reported_with_its_rule(values, message):
    _, _, invalid = _parse(values)

    assert invalid == [message]


def test_bad_values_fall_back_to_unset():
    flask, webserver, _ = _parse(
        {
            "flask-preferred-url-scheme": "gopher",
            "flask-application-root": "relative",
            "webserver-workers": -3,
            "webserver-worker-class": "tornado",
        }
    )

    assert flask.preferred_url_scheme == "HTTPS"
    assert flask.application_root is None
    assert webserver.workers is None
    assert webserver.worker_class is None


def test_every_problem_is_collected_into_one_status():
    problems = config.Problems()
    problems.missing.extend(["a", "b"])
    config.parse_flask({"flask-env": "", "flask-preferred-url-scheme": "ftp"}, problems)

    with pytest.raises(status.Blocked) as raised:
        problems.raise_if_any()

    assert raised.value.message == (
        "missing config: a, b; invalid config: flask-preferred-url-scheme must be HTTP or "
        "HTTPS; flask-env must not be empty"
    )


def test_invalid_only_status_message():
    problems = config.Problems()
    config.parse_flask({"flask-preferred-url-scheme": "ftp"}, problems)

    with pytest.raises(status.Blocked) as raised:
        problems.raise_if_any()

    assert (
        raised.value.message == "invalid config: flask-preferred-url-scheme must be HTTP or HTTPS"
    )
    assert raised.value.name == "blocked"


def test_missing_only_status_message():
    problems = config.Problems()
    problems.missing.extend(["a", "b"])

    with pytest.raises(status.Blocked, match=r"^missing config: a, b$"):
        problems.raise_if_any()


def test_no_problem_raises_nothing():
    config.Problems().raise_if_any()  # must not raise

    assert config.Problems().missing == []


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("text", "text"),
        ("", ""),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (0, "0"),
        (1.5, "1.5"),
    ],
)
def test_encode_is_strings_as_is_and_json_otherwise(value, encoded):
    assert config.encode(value) == encoded


@pytest.mark.parametrize(
    ("parts", "name"),
    [
        (("token",), "FLASK_TOKEN"),
        (("my-int",), "FLASK_MY_INT"),
        (("api-creds", "user-name"), "FLASK_API_CREDS_USER_NAME"),
        (("api-creds", "pass_word"), "FLASK_API_CREDS_PASS_WORD"),
    ],
)
def test_env_name_upper_cases_and_turns_dashes_into_underscores(parts, name):
    assert config.env_name("FLASK_", *parts) == name


@pytest.mark.parametrize(
    ("name", "is_user"),
    [
        ("token", True),
        ("api-creds", True),
        ("app-secret", True),
        ("flask-env", False),
        ("flask-secret-key-id", False),
        ("webserver-workers", False),
    ],
)
def test_user_options_are_those_without_a_builtin_prefix(name, is_user):
    assert config.is_user_option(name, "flask-") is is_user


def test_missing_options_are_required_options_without_a_value():
    options = {
        "a": config.OptionMeta("a", "string", optional=False),
        "b": config.OptionMeta("b", "string", optional=False),
        "c": config.OptionMeta("c", "int", optional=False),
        "d": config.OptionMeta("d", "boolean", optional=False),
        "e": config.OptionMeta("e", "string", optional=True),
    }

    missing = config.missing_options(options, {"b": "", "c": 0, "d": False})

    assert missing == ["a", "b"]


def test_secret_keys_that_make_good_variable_names_pass():
    assert config.check_secret_keys("api-creds", {"user-name": "u", "pass_word": "p"}) is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({}, "secret of api-creds is empty"),
        (
            {"ok": "1", "1st": "2", "with space": "3"},
            "secret of api-creds has keys that are not valid names: 1st, with space",
        ),
        (
            {"user-name": "1", "user_name": "2"},
            "secret of api-creds has keys that differ only in case or dashes",
        ),
        (
            {"token": "1", "TOKEN": "2"},
            "secret of api-creds has keys that differ only in case or dashes",
        ),
    ],
)
def test_secret_keys_that_cannot_become_variables_are_refused(content, reason):
    assert config.check_secret_keys("api-creds", content) == reason


OPTIONS = {
    "options": {
        "token": {"type": "string", "description": "x"},
        "required-opt": {"type": "string", "optional": False},
        "explicitly-optional": {"type": "int", "optional": True},
        "untyped": {"description": "no type"},
        "api-creds": {"type": "secret"},
    }
}
EXPECTED_OPTIONS = {
    "token": config.OptionMeta("token", "string", optional=True),
    "required-opt": config.OptionMeta("required-opt", "string", optional=False),
    "explicitly-optional": config.OptionMeta("explicitly-optional", "int", optional=True),
    "untyped": config.OptionMeta("untyped", "string", optional=True),
    "api-creds": config.OptionMeta("api-creds", "secret", optional=True),
}


def test_load_options_reads_the_packed_config_yaml(tmp_path: pathlib.Path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(OPTIONS))

    assert config.load_options(tmp_path) == EXPECTED_OPTIONS


def test_load_options_reads_charmcraft_yaml_when_there_is_no_config_yaml(tmp_path: pathlib.Path):
    (tmp_path / "charmcraft.yaml").write_text(yaml.safe_dump({"name": "x", "config": OPTIONS}))

    assert config.load_options(tmp_path) == EXPECTED_OPTIONS


def test_load_options_prefers_config_yaml_over_charmcraft_yaml(tmp_path: pathlib.Path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"options": {"a": {"type": "int"}}}))
    (tmp_path / "charmcraft.yaml").write_text(yaml.safe_dump({"config": OPTIONS}))

    assert config.load_options(tmp_path) == {"a": config.OptionMeta("a", "int")}


@pytest.mark.parametrize(
    ("files"),
    [
        {},
        {"config.yaml": ""},
        {"config.yaml": "options:\n"},
        {"charmcraft.yaml": ""},
        {"charmcraft.yaml": "name: x\n"},
    ],
)
def test_load_options_without_options_is_empty(tmp_path: pathlib.Path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)

    assert config.load_options(tmp_path) == {}


def test_load_options_reads_the_charms_own_charmcraft_yaml():
    root = pathlib.Path(__file__).parents[2]

    options = config.load_options(root)

    assert options["token"] == config.OptionMeta("token", "string")
    assert options["flask-secret-key-id"].type == "secret"
    assert all(option.optional for option in options.values())


@pytest.mark.parametrize("path", ["healthz", "/a b", "/a\tb", "/\x00"])
def test_readiness_path_must_be_a_path_without_spaces(path):
    problems = config.Problems()

    webserver = config.parse_webserver({"webserver-readiness-path": path}, problems)

    assert problems.invalid == [
        "webserver-readiness-path must be a URL path starting with /, without spaces"
    ]
    assert webserver.readiness_path == "/"


def test_readiness_path_defaults_to_the_root():
    problems = config.Problems()

    assert config.parse_webserver({}, problems).readiness_path == "/"
    assert (
        config.parse_webserver({"webserver-readiness-path": "/up?x=1"}, problems).readiness_path
        == "/up?x=1"
    )
    assert problems.invalid == []


@pytest.mark.parametrize("value", ["auto", "dockerflow", "basic", " Dockerflow "])
def test_health_checks_option_takes_auto_dockerflow_or_basic(value):
    problems = config.Problems()

    webserver = config.parse_webserver({"webserver-health-checks": value}, problems)

    assert webserver.health_checks == value.strip().lower()
    assert problems.invalid == []


def test_health_checks_default_to_auto_and_a_bad_value_is_named():
    problems = config.Problems()
    assert config.parse_webserver({}, problems).health_checks == "auto"

    webserver = config.parse_webserver({"webserver-health-checks": "k8s"}, problems)

    assert problems.invalid == ["webserver-health-checks must be auto, dockerflow or basic"]
    assert webserver.health_checks == "auto"
