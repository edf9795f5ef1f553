"""The Dockerflow endpoints: /__lbheartbeat__, /__heartbeat__, /__version__ and /__error__.

Pins their status codes and bodies, who sees the heartbeat's details, the order of its checks,
where version.json is looked for, and that the extension is set up once per app.
"""

from __future__ import annotations

import json
import pathlib

import flask
import pytest

import flask_k8s_app
from tests.unit.app import helpers

# -- /__lbheartbeat__ ---------------------------------------------------------------------------


def test_the_lbheartbeat_answers_200_without_running_any_check(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    calls: list[int] = []

    def failing() -> list[flask_k8s_app.CheckMessage]:
        calls.append(1)
        return [flask_k8s_app.Critical("down", id="x.C1")]

    ext.add_check("failing", failing)

    response = app.test_client().get("/__lbheartbeat__")

    assert response.status_code == 200
    assert response.data == b""
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert calls == []


# -- /__heartbeat__ -----------------------------------------------------------------------------


def test_a_heartbeat_without_checks_is_ok(tmp_path: pathlib.Path):
    app, _ = helpers.make_app(tmp_path)

    response = app.test_client().get("/__heartbeat__")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {}, "details": {}}
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("setting", "code"), [(503, 503), ("503", 503), ("not a number", 500)], ids=repr
)
def test_a_failing_heartbeat_answers_the_configured_status(
    tmp_path: pathlib.Path, setting: object, code: int
):
    app, ext = helpers.make_app(tmp_path, {"K8S_HEARTBEAT_FAILED_STATUS_CODE": setting})
    ext.add_check("db", lambda: [flask_k8s_app.Error("down", id="db.E1")])

    assert helpers.heartbeat(app)[0] == code


def test_the_failure_status_only_applies_from_error_up(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path, {"K8S_HEARTBEAT_FAILED_STATUS_CODE": 503})
    ext.add_check("db", lambda: [flask_k8s_app.Warning("slow", id="db.W1")])

    assert helpers.heartbeat(app)[0] == 200


def test_the_worst_checks_come_first_and_details_list_only_checks_not_ok(
    tmp_path: pathlib.Path,
):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("b_fine", lambda: None)
    ext.add_check("c_warns", lambda: [flask_k8s_app.Warning("w", id="c.W1")])
    ext.add_check("a_fine", lambda: None)
    ext.add_check("d_fails", lambda: [flask_k8s_app.Error("e", id="d.E1")])
    ext.add_check("a_warns", lambda: [flask_k8s_app.Warning("w", id="a.W1")])

    response = app.test_client().get("/__heartbeat__")
    # The order in the text itself: Pebble keeps only the first 512 bytes of a failing body.
    body = json.loads(response.data)

    assert list(body) == ["status", "checks", "details"]
    assert list(body["checks"]) == ["d_fails", "a_warns", "c_warns", "a_fine", "b_fine"]
    assert list(body["details"]) == ["d_fails", "a_warns", "c_warns"]


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.0.0.53", "::1"])
def test_a_local_caller_sees_the_details(tmp_path: pathlib.Path, remote: str):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("db", lambda: [flask_k8s_app.Error("host db-1 refused", id="db.E1")])

    _, body = helpers.heartbeat(app, remote=remote)

    assert helpers.messages(body, "db") == {"db.E1": "host db-1 refused"}


def test_a_caller_through_the_ingress_sees_levels_but_no_messages(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("db", lambda: [flask_k8s_app.Error("host db-1 refused", id="db.E1")])

    code, body = helpers.heartbeat(app, remote="10.1.2.3")

    assert code == 500
    assert body == {"status": "error", "checks": {"db": "error"}}


@pytest.mark.parametrize("setting", [True, "true", "yes", 1])
def test_k8s_heartbeat_details_shows_the_details_to_every_caller(
    tmp_path: pathlib.Path, setting: object
):
    app, ext = helpers.make_app(tmp_path, {"K8S_HEARTBEAT_DETAILS": setting})
    ext.add_check("db", lambda: [flask_k8s_app.Error("refused", id="db.E1")])

    _, body = helpers.heartbeat(app, remote="10.1.2.3")

    assert helpers.messages(body, "db") == {"db.E1": "refused"}


@pytest.mark.parametrize("setting", [False, "false", "no", 0])
def test_k8s_heartbeat_details_off_hides_them_from_local_callers_too(
    tmp_path: pathlib.Path, setting: object
):
    app, ext = helpers.make_app(tmp_path, {"K8S_HEARTBEAT_DETAILS": setting})
    ext.add_check("db", lambda: [flask_k8s_app.Error("refused", id="db.E1")])

    _, body = helpers.heartbeat(app, remote="127.0.0.1")

    assert "details" not in body


def test_an_app_in_debug_shows_the_details_to_every_caller(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path, {"DEBUG": True})
    ext.add_check("db", lambda: [flask_k8s_app.Error("refused", id="db.E1")])

    _, body = helpers.heartbeat(app, remote="10.1.2.3")

    assert helpers.messages(body, "db") == {"db.E1": "refused"}


# -- /__version__ -------------------------------------------------------------------------------

VERSION = {"source": "https://github.com/o/r", "version": "1.2.3", "commit": "abc", "build": ""}


def _version(app: flask.Flask) -> tuple[int, dict[str, object]]:
    response = app.test_client().get("/__version__")
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def test_version_json_is_served_from_the_apps_root(tmp_path: pathlib.Path):
    (tmp_path / "version.json").write_text(json.dumps(VERSION))
    app, _ = helpers.make_app(tmp_path)

    assert _version(app) == (200, VERSION)


def test_version_json_is_found_in_the_directory_above_the_apps_root(tmp_path: pathlib.Path):
    root = tmp_path / "app"
    root.mkdir()
    (tmp_path / "version.json").write_text(json.dumps(VERSION))
    app, _ = helpers.make_app(root)

    assert _version(app) == (200, VERSION)


def test_k8s_version_path_names_a_directory_or_the_file_and_comes_first(tmp_path: pathlib.Path):
    (tmp_path / "version.json").write_text(json.dumps({"version": "from the root"}))
    directory = tmp_path / "build"
    directory.mkdir()
    (directory / "version.json").write_text(json.dumps({"version": "from the directory"}))
    (directory / "release.json").write_text(json.dumps({"version": "from the file"}))

    by_directory, _ = helpers.make_app(tmp_path, {"K8S_VERSION_PATH": str(directory)})
    by_file, _ = helpers.make_app(tmp_path, {"K8S_VERSION_PATH": str(directory / "release.json")})

    assert _version(by_directory) == (200, {"version": "from the directory"})
    assert _version(by_file) == (200, {"version": "from the file"})


def test_without_version_json_the_404_says_where_it_looked(tmp_path: pathlib.Path):
    root = tmp_path / "app"
    root.mkdir()
    app, _ = helpers.make_app(root, {"K8S_VERSION_PATH": str(tmp_path / "build")})

    assert _version(app) == (
        404,
        {
            "error": "version.json not found",
            "looked_in": [
                str(tmp_path / "build" / "version.json"),
                str(root / "version.json"),
                str(tmp_path / "version.json"),
                "/app/version.json",
            ],
        },
    )


def test_a_version_json_added_after_a_404_is_found(tmp_path: pathlib.Path):
    app, _ = helpers.make_app(tmp_path)
    assert _version(app)[0] == 404

    (tmp_path / "version.json").write_text(json.dumps(VERSION))

    assert _version(app) == (200, VERSION)


def test_version_json_is_read_once_per_process(tmp_path: pathlib.Path):
    path = tmp_path / "version.json"
    path.write_text(json.dumps(VERSION))
    app, _ = helpers.make_app(tmp_path)
    assert _version(app) == (200, VERSION)

    path.write_text(json.dumps({"version": "changed under the running app"}))

    assert _version(app) == (200, VERSION)


def test_a_version_json_that_is_not_json_is_a_500_naming_the_file(tmp_path: pathlib.Path):
    path = tmp_path / "version.json"
    path.write_text("{not json")
    app, _ = helpers.make_app(tmp_path)

    assert _version(app) == (500, {"error": f"{path} is not valid JSON"})


# -- /__error__ ---------------------------------------------------------------------------------


def test_the_error_endpoint_is_off_by_default(tmp_path: pathlib.Path):
    app, _ = helpers.make_app(tmp_path)

    assert app.test_client().get("/__error__").status_code == 404


def test_the_error_endpoint_fails_on_purpose_and_logs_that_it_was_called(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
):
    app, _ = helpers.make_app(tmp_path, {"K8S_ENABLE_ERROR_ENDPOINT": "true"}, logging=True)

    response = app.test_client().get("/__error__")

    assert response.status_code == 500
    lines = helpers.json_lines(capsys.readouterr().out)
    (called,) = helpers.by_logger(lines, "flask_k8s_app")
    assert called["severityText"] == "ERROR"
    assert called["body"] == "The __error__ endpoint was called"
    (unhandled,) = helpers.by_logger(lines, "testapp")
    assert unhandled["attributes"]["exception.type"] == "RuntimeError"
    assert unhandled["attributes"]["exception.message"] == (
        "This is a test exception from the /__error__ endpoint."
    )


# -- setting up ---------------------------------------------------------------------------------


def test_the_extension_is_set_up_once_per_app(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)

    with pytest.raises(RuntimeError, match="already initialised"):
        ext.init_app(app)
    with pytest.raises(RuntimeError, match="already initialised"):
        flask_k8s_app.FlaskK8s(app, logging=False)


def test_asking_for_the_heartbeat_of_an_app_without_the_extension_says_so(tmp_path: pathlib.Path):
    _, ext = helpers.make_app(tmp_path)

    with pytest.raises(RuntimeError, match="not initialised on this app: call init_app"):
        ext.heartbeat(flask.Flask("other"))
