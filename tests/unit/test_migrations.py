"""Migrations: which script runs, how, and when it has to run again."""

import pytest

from flask_k8s import _migrations as migrations

ENV = {"FLASK_SECRET_KEY": "k", "FLASK_ENV": "production"}


@pytest.mark.parametrize(
    ("files", "script"),
    [
        ({"app.py"}, None),
        (set(), None),
        ({"migrate", "app.py"}, "migrate"),
        ({"migrate.sh", "migrate"}, "migrate.sh"),
        ({"migrate.py", "migrate.sh", "migrate"}, "migrate.py"),
        ({"migrate.py", "migrate"}, "migrate.py"),
        ({"manage.py"}, None),
    ],
)
def test_the_last_of_migrate_migrate_sh_migrate_py_is_the_script(files, script):
    assert migrations.find_script(files) == script


@pytest.mark.parametrize(
    ("script", "command"),
    [
        ("migrate", ("/flask/app/migrate",)),
        ("migrate.sh", ("bash", "-eo", "pipefail", "migrate.sh")),
        ("migrate.py", ("/bin/python3", "migrate.py")),
    ],
)
def test_each_script_has_its_command(script, command):
    assert migrations.command(script, "/flask/app", "/bin/python3") == command


def test_no_script_no_migration():
    assert migrations.plan({"app.py"}, "/flask/app", "python3", ENV) is None


def test_migration_plan_has_the_command_and_a_digest():
    migration = migrations.plan({"migrate.sh"}, "/flask/app", "python3", ENV)

    assert migration is not None
    assert migration.command == ("bash", "-eo", "pipefail", "migrate.sh")
    assert len(migration.digest) == 64


def test_same_inputs_same_digest():
    first = migrations.plan({"migrate.sh"}, "/flask/app", "python3", ENV)
    again = migrations.plan({"migrate.sh"}, "/flask/app", "python3", dict(reversed(ENV.items())))

    assert first == again


def test_digest_changes_with_the_env():
    first = migrations.plan({"migrate.sh"}, "/flask/app", "python3", ENV)
    changed = migrations.plan(
        {"migrate.sh"}, "/flask/app", "python3", {**ENV, "FLASK_ENV": "staging"}
    )

    assert first is not None
    assert changed is not None
    assert first.digest != changed.digest


def test_digest_changes_with_the_command():
    shell = migrations.plan({"migrate.sh"}, "/flask/app", "python3", ENV)
    python = migrations.plan({"migrate.py"}, "/flask/app", "python3", ENV)

    assert shell is not None
    assert python is not None
    assert shell.digest != python.digest


@pytest.mark.parametrize(
    ("stdout", "stderr", "exit_code", "reason"),
    [
        ("out\n", "first\nlast line\n", 1, "last line"),
        ("out\n", "error: it broke  \n\n  \n", 1, "error: it broke"),
        ("step 1\nstep 2 broke\n", "", 1, "step 2 broke"),
        ("step 1\n", None, 2, "step 1"),
        (None, None, 3, "exit code 3"),
        ("", "\n \n", 4, "exit code 4"),
        (None, None, None, "exit code None"),
    ],
)
def test_failure_reason_is_the_last_line_of_error_output(stdout, stderr, exit_code, reason):
    assert migrations.failure_reason(stdout, stderr, exit_code) == reason


def test_ignored_variables_do_not_count_as_migration_inputs():
    ignored = ("FLASK_PEER_FQDNS",)
    one_unit = migrations.plan({"migrate.sh"}, "/flask/app", "python3", ENV, ignored=ignored)
    scaled = migrations.plan(
        {"migrate.sh"},
        "/flask/app",
        "python3",
        {**ENV, "FLASK_PEER_FQDNS": "flask-k8s-1.flask-k8s-endpoints.m.svc.cluster.local"},
        ignored=ignored,
    )

    assert one_unit is not None and scaled is not None
    assert scaled.digest == one_unit.digest
