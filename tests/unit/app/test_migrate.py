"""The migration step, ``python3 -m flask_k8s_app.migrate [module:app]``, run by migrate.sh.

Pins how it finds the app (``app:app``, ``app:create_app`` or the name given, a factory
called), that it upgrades the app's database to the head or ``--revision``, and that it exits
0, or 1 with the reason on stderr.
"""

from __future__ import annotations

import collections.abc
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

import flask_k8s_app.migrate
from tests.unit.app import helpers

PACKAGE_SOURCE = pathlib.Path(flask_k8s_app.migrate.__file__).parents[1]

APP = """\
import flask_k8s_app

{name} = flask_k8s_app.create_app(
    __name__, extensions={extensions!r}, config={{"SQLALCHEMY_DATABASE_URI": {url!r}}}
)
"""

FACTORY = """\
import flask_k8s_app


def {name}():
    return flask_k8s_app.create_app(
        __name__, extensions=["db"], config={{"SQLALCHEMY_DATABASE_URI": {url!r}}}
    )
"""


class Workdir:
    """The directory migrate.sh runs in (the rock's /flask/app), with the app's modules."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.database = path / "app.db"
        self.url = f"sqlite:///{self.database}"
        self.modules: list[str] = []

    def write(self, module: str, source: str) -> None:
        (self.path / f"{module}.py").write_text(source)
        self.modules.append(module)
        importlib.invalidate_caches()

    def app(
        self, module: str = "app", name: str = "app", extensions: tuple[str, ...] = ("db",)
    ) -> None:
        self.write(module, APP.format(name=name, extensions=list(extensions), url=self.url))

    def factory(self, module: str = "app", name: str = "create_app") -> None:
        self.write(module, FACTORY.format(name=name, url=self.url))

    def migrations(self, *tables: str) -> None:
        helpers.write_migrations(self.path / "migrations", tables)


@pytest.fixture
def workdir(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> collections.abc.Iterator[Workdir]:
    """The working directory, with ``sys.path`` and the app modules put back afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    earlier = sys.modules.pop("app", None)
    directory = Workdir(tmp_path)
    yield directory
    for module in {*directory.modules, "app"}:
        sys.modules.pop(module, None)
    if earlier is not None:
        sys.modules["app"] = earlier


def test_the_app_modules_app_is_migrated_to_the_head(workdir: Workdir):
    workdir.app()
    workdir.migrations("notes", "tags")

    assert flask_k8s_app.migrate.main([]) == 0

    assert helpers.tables(workdir.database) == {"notes", "tags", "alembic_version"}


def test_without_an_app_object_the_app_modules_create_app_is_called(workdir: Workdir):
    workdir.factory()
    workdir.migrations("notes")

    assert flask_k8s_app.migrate.main([]) == 0

    assert "notes" in helpers.tables(workdir.database)


@pytest.mark.parametrize(
    ("spec", "kind", "name"),
    [
        ("shop:application", "app", "application"),
        ("shop:make_app", "factory", "make_app"),
        ("shop", "app", "app"),
    ],
)
def test_the_app_can_be_named_as_module_colon_name(
    workdir: Workdir, spec: str, kind: str, name: str
):
    if kind == "app":
        workdir.app(module="shop", name=name)
    else:
        workdir.factory(module="shop", name=name)
    workdir.migrations("notes")

    assert flask_k8s_app.migrate.main([spec]) == 0

    assert "notes" in helpers.tables(workdir.database)


def test_revision_stops_the_upgrade_at_that_revision(workdir: Workdir):
    workdir.app()
    workdir.migrations("notes", "tags")

    assert flask_k8s_app.migrate.main(["--revision", "0001"]) == 0

    assert helpers.tables(workdir.database) == {"notes", "alembic_version"}


def test_an_app_without_a_database_has_nothing_to_migrate(
    workdir: Workdir, capsys: pytest.CaptureFixture[str]
):
    workdir.write("app", "import flask\n\napp = flask.Flask(__name__)\n")

    assert flask_k8s_app.migrate.main([]) == 0

    assert capsys.readouterr().err == "no database configured: nothing to migrate\n"


def test_without_an_app_module_it_fails_saying_where_it_looked(
    workdir: Workdir, capsys: pytest.CaptureFixture[str]
):
    assert flask_k8s_app.migrate.main([]) == 1

    assert capsys.readouterr().err == (
        "migration failed: LookupError: no Flask app found: "
        "app:app: No module named 'app'; app:create_app: No module named 'app'\n"
    )


def test_a_name_that_is_not_an_app_or_a_factory_of_one_fails(
    workdir: Workdir, capsys: pytest.CaptureFixture[str]
):
    workdir.write("app", "app = 42\n\n\ndef create_app():\n    return 'not an app'\n")

    assert flask_k8s_app.migrate.main([]) == 1

    assert capsys.readouterr().err == (
        "migration failed: LookupError: no Flask app found: "
        "app:app: not a Flask app or a factory of one; "
        "app:create_app: not a Flask app or a factory of one\n"
    )


def test_an_app_without_flask_migrate_fails_naming_the_db_extension(
    workdir: Workdir, capsys: pytest.CaptureFixture[str]
):
    workdir.app(extensions=("log",))

    assert flask_k8s_app.migrate.main([]) == 1

    err = capsys.readouterr().err
    assert err.startswith("migration failed: LookupError: the app has no Flask-Migrate: ")
    assert "load the 'db' extension" in err


def test_an_app_that_fails_to_import_fails_the_step_with_its_error(
    workdir: Workdir, capsys: pytest.CaptureFixture[str]
):
    workdir.write("app", "raise RuntimeError('SECRET_KEY is not set')\n")

    assert flask_k8s_app.migrate.main([]) == 1

    assert capsys.readouterr().err == ("migration failed: RuntimeError: SECRET_KEY is not set\n")


def test_a_missing_migrations_directory_fails_with_the_reason_on_stderr(
    workdir: Workdir, capsys: pytest.CaptureFixture[str]
):
    workdir.app(extensions=("log", "db"))

    assert flask_k8s_app.migrate.main([]) == 1

    err = capsys.readouterr().err
    assert err.startswith("migration failed: ")
    assert str(workdir.path / "migrations") in err


def test_python_dash_m_runs_the_step_and_exits_with_its_status(workdir: Workdir):
    environment = {**os.environ, "PYTHONPATH": str(PACKAGE_SOURCE)}

    result = subprocess.run(
        [sys.executable, "-m", "flask_k8s_app.migrate", "nowhere:app"],
        cwd=workdir.path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr == (
        "migration failed: LookupError: no Flask app found: "
        "nowhere:app: No module named 'nowhere'\n"
    )
