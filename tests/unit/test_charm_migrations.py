"""Migrations: run before the app sees new settings, recorded on success, retried on failure."""

import dataclasses
import json
import logging

import ops
import pytest
from ops import testing

from tests.unit import conftest

ACTIVE = ops.pebble.ServiceStatus.ACTIVE
INACTIVE = ops.pebble.ServiceStatus.INACTIVE
MIGRATE_SH = ("bash", "-eo", "pipefail", "migrate.sh")


def _plan(out: testing.State) -> ops.pebble.Plan:
    return out.get_container("flask-app").plan


def _migrations(ctx: testing.Context) -> list:
    return [
        run for run in ctx.exec_history.get("flask-app", []) if "--check-config" not in run.command
    ]


@pytest.fixture
def with_migrate_sh(workload, state) -> testing.State:
    workload.add_app_file("migrate.sh", "flask db upgrade\n")
    return dataclasses.replace(
        state, containers={workload.container(execs=[testing.Exec(MIGRATE_SH)])}
    )


def test_migrate_sh_runs_as_the_rocks_user_with_the_apps_env(ctx, with_migrate_sh):
    out = ctx.run(ctx.on.config_changed(), with_migrate_sh)

    [migration] = _migrations(ctx)
    assert migration.command == ["bash", "-eo", "pipefail", "migrate.sh"]
    assert migration.user == "_daemon_"
    assert migration.group == "_daemon_"
    assert migration.working_dir == "/flask/app"
    assert migration.timeout is not None
    assert migration.environment == conftest.flask_env(out)
    assert out.unit_status == testing.ActiveStatus()


@pytest.mark.parametrize(
    ("files", "command"),
    [
        (["migrate"], ["/flask/app/migrate"]),
        (["migrate", "migrate.sh"], ["bash", "-eo", "pipefail", "migrate.sh"]),
        (["migrate", "migrate.sh", "migrate.py"], ["/bin/python3", "migrate.py"]),
        (["migrate.py"], ["/bin/python3", "migrate.py"]),
    ],
)
def test_the_last_of_migrate_migrate_sh_migrate_py_wins(ctx, workload, state, files, command):
    for name in files:
        workload.add_app_file(name)
    container = workload.container(execs=[testing.Exec(command)])

    ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    assert [run.command for run in _migrations(ctx)] == [command]


def test_no_script_no_migration(ctx, state, workload):
    workload.add_app_file("app.py", "app = None\n")

    out = ctx.run(ctx.on.config_changed(), state)

    assert _migrations(ctx) == []
    assert out.unit_status == testing.ActiveStatus()


def test_migration_runs_before_the_app_gets_the_new_settings(ctx, with_migrate_sh, pebble_calls):
    ctx.run(ctx.on.config_changed(), with_migrate_sh)

    order = [name if name != "push" else f"push {args[0]}" for name, args, _ in pebble_calls]
    migration = next(
        index
        for index, (name, args, _) in enumerate(pebble_calls)
        if name == "exec" and args[0][0] == "bash"
    )
    assert order.index("add_layer") > migration
    assert order.index("push /flask/gunicorn.conf.py") > migration


def test_failed_migration_blocks_with_the_last_line_and_keeps_the_app_down(ctx, workload, state):
    workload.add_app_file("migrate.sh")
    failing = testing.Exec(
        MIGRATE_SH,
        return_code=1,
        stdout="running migrations\n",
        stderr="INFO upgrade a1 -> b2\nsqlalchemy.exc.OperationalError: no such table: users\n\n",
    )
    state = dataclasses.replace(state, containers={workload.container(execs=[failing])})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "migration failed: sqlalchemy.exc.OperationalError: no such table: users"
    )
    container = out.get_container("flask-app")
    assert "flask-k8s" not in container.layers
    assert container.service_statuses.get("flask", INACTIVE) == INACTIVE
    assert workload.gunicorn_config is None


def test_failed_migration_with_only_stdout_reports_its_last_line(ctx, workload, state):
    workload.add_app_file("migrate.sh")
    failing = testing.Exec(MIGRATE_SH, return_code=2, stdout="step 1\nstep 2 broke\n")
    state = dataclasses.replace(state, containers={workload.container(execs=[failing])})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("migration failed: step 2 broke")


def test_failed_migration_keeps_the_running_app_on_its_old_settings(
    make_ctx, workload, with_migrate_sh
):
    first = make_ctx()
    running = first.run(
        first.on.config_changed(), dataclasses.replace(with_migrate_sh, config={"token": "v1"})
    )
    failing = testing.Exec(MIGRATE_SH, return_code=1, stderr="boom\n")
    broken = dataclasses.replace(
        running.get_container("flask-app"),
        execs=frozenset({failing, testing.Exec(workload.gunicorn_prefix)}),
    )
    ctx = make_ctx()

    out = ctx.run(
        ctx.on.config_changed(),
        dataclasses.replace(running, containers={broken}, config={"token": "v2"}),
    )

    assert out.unit_status == testing.BlockedStatus("migration failed: boom")
    assert conftest.flask_env(out)["FLASK_TOKEN"] == "v1"
    assert out.get_container("flask-app").service_statuses["flask"] == ACTIVE


def test_successful_migration_is_not_run_again(make_ctx, with_migrate_sh):
    first = make_ctx()
    migrated = first.run(first.on.config_changed(), with_migrate_sh)
    assert len(_migrations(first)) == 1
    ctx = make_ctx()

    out = ctx.run(ctx.on.update_status(), migrated)

    assert ctx.exec_history == {}
    assert out.unit_status == testing.ActiveStatus()


def test_a_config_change_runs_the_migration_again(make_ctx, with_migrate_sh):
    first = make_ctx()
    migrated = first.run(first.on.config_changed(), with_migrate_sh)
    ctx = make_ctx()

    ctx.run(ctx.on.config_changed(), dataclasses.replace(migrated, config={"flask-env": "dev"}))

    [migration] = _migrations(ctx)
    assert migration.environment["FLASK_ENV"] == "dev"


def _age_the_record(state: testing.State, seconds: float) -> testing.State:
    """The same state, with the leader's migration record ``seconds`` older."""
    peers = next(r for r in state.relations if r.endpoint == "secret-storage")
    record = json.loads(peers.local_app_data["migration"])
    record["at"] -= seconds
    data = {**peers.local_app_data, "migration": json.dumps(record)}
    aged = dataclasses.replace(peers, local_app_data=data)
    return dataclasses.replace(state, relations={*(state.relations - {peers}), aged})


def test_a_failed_migration_is_retried_after_its_backoff(make_ctx, workload, state):
    workload.add_app_file("migrate.sh")
    failing = testing.Exec(MIGRATE_SH, return_code=1, stderr="database is locked\n")
    first = make_ctx()
    failed = first.run(
        first.on.config_changed(),
        dataclasses.replace(state, containers={workload.container(execs=[failing])}),
    )
    assert failed.unit_status == testing.BlockedStatus("migration failed: database is locked")
    fixed = dataclasses.replace(
        failed,
        containers={workload.container(execs=[testing.Exec(MIGRATE_SH)])},
    )
    soon = make_ctx()

    # Within the first minute: not run again, still Blocked.
    held = soon.run(soon.on.update_status(), fixed)

    assert _migrations(soon) == []
    assert held.unit_status == testing.BlockedStatus("migration failed: database is locked")
    ctx = make_ctx()

    out = ctx.run(ctx.on.update_status(), _age_the_record(held, 61))

    assert len(_migrations(ctx)) == 1
    assert out.unit_status == testing.ActiveStatus()
    assert out.get_container("flask-app").service_statuses["flask"] == ACTIVE


def test_secrets_never_reach_a_status_or_the_log(make_ctx, workload, state, caplog):
    config_key = "SuperSecretKey-Zx81Qw"
    api_token = "ApiToken-Pp42Lm-distinctive"
    creds = testing.Secret({"token": api_token})
    workload.add_app_file("migrate.sh")
    leaking = testing.Exec(
        MIGRATE_SH,
        return_code=1,
        stderr=f"could not connect with key {config_key} and token {api_token}\n",
    )
    state = dataclasses.replace(
        state,
        containers={workload.container(execs=[leaking])},
        config={"flask-secret-key": config_key, "api-creds": creds.id},
        secrets={*state.secrets, creds},
    )
    ctx = make_ctx({"api-creds": {"type": "secret"}})

    with caplog.at_level(logging.DEBUG):
        out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "migration failed: could not connect with key *** and token ***"
    )
    statuses = [*ctx.unit_status_history, *ctx.app_status_history, out.unit_status]
    for value in (config_key, api_token):
        assert all(value not in status.message for status in statuses)
        assert value not in caplog.text


def test_the_generated_key_never_reaches_a_status_or_the_log(make_ctx, workload, caplog):
    workload.add_app_file("migrate.sh")
    state = testing.State(
        leader=True,
        containers={
            workload.container(execs=[testing.Exec(MIGRATE_SH, return_code=1, stderr="x\n")])
        },
        relations={testing.PeerRelation("secret-storage")},
    )
    ctx = make_ctx()

    with caplog.at_level(logging.DEBUG):
        out = ctx.run(ctx.on.leader_elected(), state)

    key = out.get_secret(label="flask-secret-key").latest_content["value"]
    assert key not in caplog.text
    assert all(key not in status.message for status in [*ctx.unit_status_history, out.unit_status])


def test_the_migrate_action_elsewhere_names_the_leader(make_ctx, with_migrate_sh):
    first = make_ctx()
    led = first.run(first.on.config_changed(), with_migrate_sh)
    ctx = make_ctx()

    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(ctx.on.action("migrate"), dataclasses.replace(led, leader=False))

    assert failed.value.message == (
        "only the leader runs the migration: the leader is flask-k8s/0; "
        "juju run flask-k8s/leader migrate"
    )
    assert _migrations(ctx) == []
