"""The charm's Pebble layer, gunicorn config, checks, reloads, and idempotent reconciles."""

import dataclasses
import logging
import typing

import ops
import pytest
from ops import testing

from tests.unit import conftest

ACTIVE = ops.pebble.ServiceStatus.ACTIVE
INACTIVE = ops.pebble.ServiceStatus.INACTIVE
WORKER = {"override": "replace", "command": "celery -A app worker", "startup": "enabled"}
SCHEDULER = {"override": "replace", "command": "celery -A app beat", "startup": "enabled"}
OTHER = {"override": "replace", "command": "sleep infinity", "startup": "enabled"}


def _plan(out: testing.State) -> ops.pebble.Plan:
    return out.get_container("flask-app").plan


def _execute(text: str) -> dict:
    namespace: dict = {}
    exec(compile(text, "gunicorn.conf.py", "exec"), namespace)  # noqa: S102
    return namespace


def _calls(pebble_calls, name: str) -> list:
    return [call for call in pebble_calls if call[0] == name]


def test_waits_for_pebble(ctx, workload, state):
    state = dataclasses.replace(state, containers={workload.container(can_connect=False)})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.WaitingStatus(
        "waiting for Pebble in the flask-app container"
    )


def test_pebble_ready_applies_the_layer(ctx, state, workload):
    container = next(iter(state.containers))

    out = ctx.run(ctx.on.pebble_ready(container), state)

    assert out.unit_status == testing.ActiveStatus()
    assert "flask-k8s" in out.get_container("flask-app").layers
    assert workload.gunicorn_config is not None


def test_statsd_exporter_is_left_as_the_rock_defines_it(ctx, state, workload):
    out = ctx.run(ctx.on.config_changed(), state)

    exporter = _plan(out).services["statsd-exporter"]
    assert exporter.command == workload.exporter_command
    assert exporter.environment == {}
    assert "statsd-exporter" not in out.get_container("flask-app").layers["flask-k8s"].services


@pytest.mark.parametrize("leader", [True, False])
def test_workers_get_the_env_on_every_unit(ctx, state, workload, leader):
    container = workload.container(services={"celery-worker": WORKER, "Mail-Worker": WORKER})
    state = dataclasses.replace(state, leader=leader, containers={container})

    out = ctx.run(ctx.on.config_changed(), state)

    services = _plan(out).services
    for name in ("celery-worker", "Mail-Worker"):
        assert services[name].environment == conftest.flask_env(out)
        assert services[name].command == "celery -A app worker"
        assert out.get_container("flask-app").service_statuses[name] == ACTIVE


def test_other_rock_services_get_no_env(ctx, state, workload):
    container = workload.container(services={"sidecar": OTHER})

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    assert _plan(out).services["sidecar"].environment == {}


def test_scheduler_runs_on_the_leader(ctx, state, workload):
    container = workload.container(services={"celery-scheduler": SCHEDULER})

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    scheduler = _plan(out).services["celery-scheduler"]
    assert scheduler.startup == "enabled"
    assert scheduler.environment == conftest.flask_env(out)
    assert out.get_container("flask-app").service_statuses["celery-scheduler"] == ACTIVE


@pytest.mark.parametrize("name", ["celery-scheduler", "My-Scheduler"])
def test_scheduler_is_disabled_and_stopped_on_a_non_leader(ctx, state, workload, name):
    container = workload.container(
        services={name: SCHEDULER},
        service_statuses={"flask": ACTIVE, "statsd-exporter": ACTIVE, name: ACTIVE},
    )
    state = dataclasses.replace(state, leader=False, containers={container})

    out = ctx.run(ctx.on.config_changed(), state)

    assert _plan(out).services[name].startup == "disabled"
    statuses = out.get_container("flask-app").service_statuses
    assert statuses[name] == INACTIVE
    assert statuses["flask"] == ACTIVE


def test_scheduler_moves_to_the_new_leader(make_ctx, state, workload):
    container = workload.container(services={"celery-scheduler": SCHEDULER})
    follower = make_ctx()
    before = follower.run(
        follower.on.config_changed(),
        dataclasses.replace(state, leader=False, containers={container}),
    )
    statuses = before.get_container("flask-app").service_statuses
    assert statuses.get("celery-scheduler", INACTIVE) == INACTIVE
    elected = make_ctx()

    out = elected.run(elected.on.leader_elected(), dataclasses.replace(before, leader=True))

    assert _plan(out).services["celery-scheduler"].startup == "enabled"
    assert out.get_container("flask-app").service_statuses["celery-scheduler"] == ACTIVE


def test_rock_without_a_flask_service_blocks(ctx, state):
    container = testing.Container(
        "flask-app",
        can_connect=True,
        layers={
            "rock": ops.pebble.Layer(
                typing.cast("ops.pebble.LayerDict", {"services": {"web": OTHER}})
            )
        },
    )

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert "'flask'" in out.unit_status.message
    assert "flask-framework" in out.unit_status.message


def test_gunicorn_config_holds_the_webserver_settings(ctx, state, workload):
    state = dataclasses.replace(
        state,
        config={
            "webserver-workers": 3,
            "webserver-threads": 4,
            "webserver-timeout": 30,
            "webserver-keepalive": 5,
        },
    )

    ctx.run(ctx.on.config_changed(), state)

    assert workload.gunicorn_config is not None
    settings = _execute(workload.gunicorn_config)
    assert settings["workers"] == 3
    assert settings["threads"] == 4
    assert settings["timeout"] == 30
    assert settings["keepalive"] == 5
    assert settings["bind"] == ["0.0.0.0:8000"]
    assert settings["chdir"] == "/flask/app"
    assert settings["statsd_host"] == "localhost:9125"
    assert settings["accesslog"] == settings["errorlog"] == "-"


def test_gunicorn_config_is_checked_by_the_rocks_gunicorn_before_use(ctx, state):
    out = ctx.run(ctx.on.config_changed(), state)

    [check] = ctx.exec_history["flask-app"]
    assert check.command[:3] == ["/bin/python3", "-m", "gunicorn"]
    assert check.command[-1] == "--check-config"
    assert check.command[check.command.index("-c") + 1] != "/flask/gunicorn.conf.py"
    assert check.user == "_daemon_"
    assert check.group == "_daemon_"
    assert check.working_dir == "/flask/app"
    assert check.environment == conftest.flask_env(out)


def test_failed_gunicorn_check_blocks_with_its_reason_and_applies_nothing(ctx, state, workload):
    failing = testing.Exec(
        workload.gunicorn_prefix,
        return_code=1,
        stderr="Traceback (most recent call last):\n  ...\n"
        "gunicorn.errors.AppImportError: Failed to find attribute 'app' in 'app'.\n",
    )
    state = dataclasses.replace(state, containers={workload.container(execs=[failing])})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "gunicorn check failed: gunicorn.errors.AppImportError: Failed to find attribute "
        "'app' in 'app'."
    )
    assert "flask-k8s" not in out.get_container("flask-app").layers
    assert workload.gunicorn_config is None
    assert out.get_container("flask-app").service_statuses.get("flask", INACTIVE) == INACTIVE


def test_failed_gunicorn_check_without_output_reports_the_exit_code(ctx, state, workload):
    failing = testing.Exec(workload.gunicorn_prefix, return_code=3)
    state = dataclasses.replace(state, containers={workload.container(execs=[failing])})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("gunicorn check failed: exit code 3")


def test_gevent_worker_class_rewrites_the_command_and_checks_gevent(ctx, state):
    state = dataclasses.replace(state, config={"webserver-worker-class": "gevent"})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert _plan(out).services["flask"].command.endswith("-k [ gevent ]")
    commands = [run.command for run in ctx.exec_history["flask-app"]]
    assert ["/bin/python3", "-c", "import gevent"] in commands
    gunicorn_check = next(command for command in commands if "--check-config" in command)
    assert gunicorn_check[gunicorn_check.index("-k") + 1] == "gevent"


def test_gevent_missing_from_the_rock_blocks(ctx, state, workload):
    no_gevent = testing.Exec(
        workload.gevent_check,
        return_code=1,
        stderr="ModuleNotFoundError: No module named 'gevent'",
    )
    state = dataclasses.replace(
        state,
        containers={workload.container(execs=[no_gevent])},
        config={"webserver-worker-class": "gevent"},
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert "webserver-worker-class" in out.unit_status.message
    assert "gunicorn[gevent]" in out.unit_status.message
    assert "flask-k8s" not in out.get_container("flask-app").layers


def test_sync_worker_class_does_not_check_for_gevent(ctx, state):
    ctx.run(
        ctx.on.config_changed(),
        dataclasses.replace(state, config={"webserver-worker-class": "sync"}),
    )

    commands = [run.command for run in ctx.exec_history["flask-app"]]
    assert ["/bin/python3", "-c", "import gevent"] not in commands


def test_worker_class_with_a_rock_command_without_k_blocks(ctx, state, workload):
    container = workload.container(
        services={
            "flask": {
                "override": "replace",
                "startup": "enabled",
                "command": "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py app:app",
            }
        }
    )
    state = dataclasses.replace(
        state, containers={container}, config={"webserver-worker-class": "gevent"}
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert "webserver-worker-class" in out.unit_status.message
    assert "-k" in out.unit_status.message


def test_unsetting_the_worker_class_restores_the_rocks_command(make_ctx, state, workload):
    first = make_ctx()
    gevent = first.run(
        first.on.config_changed(),
        dataclasses.replace(state, config={"webserver-worker-class": "gevent"}),
    )
    ctx = make_ctx()

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(gevent, config={}))

    assert _plan(out).services["flask"].command == workload.flask_command


def test_a_webserver_only_change_reloads_gunicorn_instead_of_restarting(
    make_ctx, state, workload, pebble_calls
):
    first = make_ctx()
    running = first.run(first.on.config_changed(), state)
    plan_before = _plan(running).to_dict()
    pebble_calls.clear()
    ctx = make_ctx()

    out = ctx.run(
        ctx.on.config_changed(), dataclasses.replace(running, config={"webserver-workers": 7})
    )

    assert out.unit_status == testing.ActiveStatus()
    assert _execute(workload.gunicorn_config or "")["workers"] == 7
    signals = _calls(pebble_calls, "send_signal")
    assert [call[1] for call in signals] == [("SIGHUP", "flask")]
    assert not _calls(pebble_calls, "add_layer")
    assert not _calls(pebble_calls, "replan")
    assert not _calls(pebble_calls, "restart")
    assert _plan(out).to_dict() == plan_before
    assert [run.command[-1] for run in ctx.exec_history["flask-app"]] == ["--check-config"]


def test_a_webserver_only_change_with_the_app_stopped_starts_it(make_ctx, state, pebble_calls):
    first = make_ctx()
    running = first.run(first.on.config_changed(), state)
    stopped = dataclasses.replace(
        running.get_container("flask-app"),
        service_statuses={"flask": INACTIVE, "statsd-exporter": ACTIVE},
    )
    pebble_calls.clear()
    ctx = make_ctx()

    out = ctx.run(
        ctx.on.config_changed(),
        dataclasses.replace(running, containers={stopped}, config={"webserver-workers": 2}),
    )

    assert not _calls(pebble_calls, "send_signal")
    assert out.get_container("flask-app").service_statuses["flask"] == ACTIVE


def test_an_env_change_reaches_the_running_app_without_a_restart(
    make_ctx, state, workload, pebble_calls
):
    first = make_ctx()
    running = first.run(
        first.on.config_changed(), dataclasses.replace(state, config={"token": "t1"})
    )
    plan_before = _plan(running).to_dict()
    pebble_calls.clear()
    ctx = make_ctx()

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(running, config={"token": "t2"}))

    assert out.unit_status == testing.ActiveStatus()
    assert conftest.flask_env(out)["FLASK_TOKEN"] == "t2"
    # The new environment is tried first: gunicorn's check imports the app with it.
    (check,) = ctx.exec_history["flask-app"]
    assert check.command[-1] == "--check-config"
    assert check.environment["FLASK_TOKEN"] == "t2"
    # Then the settings file, readable by the rock's user only, and SIGHUP: gunicorn's
    # master rolls its workers over. Pebble's plan is untouched, nothing restarts.
    pushes = [call for call in _calls(pebble_calls, "push") if call[1][0].startswith("/dev/shm")]
    ((_, (path, _), options),) = pushes
    assert path == "/dev/shm/flask-k8s/environment.json"
    assert (options["permissions"], options["user"], options["group"]) == (
        0o600,
        "_daemon_",
        "_daemon_",
    )
    assert [call[0] for call in pebble_calls][-2:] == ["push", "send_signal"]
    assert [call[1] for call in _calls(pebble_calls, "send_signal")] == [("SIGHUP", "flask")]
    for name in ("add_layer", "replan", "restart", "stop", "start"):
        assert not _calls(pebble_calls, name), name
    assert _plan(out).to_dict() == plan_before
    assert "FLASK_TOKEN" not in str(plan_before)


def test_an_env_change_restarts_workers_and_rolls_the_web_service(
    make_ctx, state, workload, pebble_calls
):
    container = workload.container(services={"celery-worker": WORKER})
    state = dataclasses.replace(state, containers={container}, config={"token": "t1"})
    first = make_ctx()
    running = first.run(first.on.config_changed(), state)
    pebble_calls.clear()
    ctx = make_ctx()

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(running, config={"token": "t2"}))

    assert _plan(out).services["celery-worker"].environment["FLASK_TOKEN"] == "t2"
    assert _plan(out).services["celery-worker"].kill_delay == "30s"
    # The replan restarts the worker, whose definition changed, and not the web service.
    assert [call[0] for call in pebble_calls if call[0] != "push"][-3:] == [
        "send_signal",
        "add_layer",
        "replan",
    ]
    assert conftest.flask_env(out)["FLASK_TOKEN"] == "t2"


def test_a_failed_check_keeps_a_new_env_from_the_app(make_ctx, state, workload, pebble_calls):
    first = make_ctx()
    running = first.run(
        first.on.config_changed(), dataclasses.replace(state, config={"token": "t1"})
    )
    pebble_calls.clear()
    failing = testing.Exec(workload.gunicorn_prefix, return_code=1, stderr="KeyError: TOKEN\n")
    container = dataclasses.replace(running.get_container("flask-app"), execs=frozenset({failing}))
    ctx = make_ctx()

    out = ctx.run(
        ctx.on.config_changed(),
        dataclasses.replace(running, containers={container}, config={"token": "t2"}),
    )

    assert out.unit_status == testing.BlockedStatus("gunicorn check failed: KeyError: TOKEN")
    assert conftest.flask_env(out)["FLASK_TOKEN"] == "t1"
    assert not _calls(pebble_calls, "send_signal")


def test_reconcile_that_changes_nothing_touches_nothing(make_ctx, state, pebble_calls):
    first = make_ctx()
    running = first.run(first.on.config_changed(), state)
    pebble_calls.clear()
    ctx = make_ctx()

    out = ctx.run(ctx.on.update_status(), running)

    assert pebble_calls == []
    assert ctx.exec_history == {}
    assert _plan(out).to_dict() == _plan(running).to_dict()
    assert out.get_container("flask-app").layers == running.get_container("flask-app").layers
    assert out.get_container("flask-app").service_statuses == {
        "flask": ACTIVE,
        "statsd-exporter": ACTIVE,
    }
    assert out.unit_status == testing.ActiveStatus()
    assert ctx.unit_status_history == [testing.ActiveStatus()]


@pytest.mark.parametrize("event", ["update_status", "config_changed", "upgrade_charm", "start"])
def test_every_unchanged_event_is_a_no_op(make_ctx, state, pebble_calls, event):
    first = make_ctx()
    running = first.run(first.on.config_changed(), state)
    pebble_calls.clear()
    ctx = make_ctx()

    ctx.run(getattr(ctx.on, event)(), running)

    assert pebble_calls == []
    assert ctx.exec_history == {}


def test_a_crashed_service_is_started_again(make_ctx, state, pebble_calls):
    first = make_ctx()
    running = first.run(first.on.config_changed(), state)
    crashed = dataclasses.replace(
        running.get_container("flask-app"),
        service_statuses={"flask": INACTIVE, "statsd-exporter": ACTIVE},
    )
    pebble_calls.clear()
    ctx = make_ctx()

    out = ctx.run(ctx.on.update_status(), dataclasses.replace(running, containers={crashed}))

    assert out.get_container("flask-app").service_statuses["flask"] == ACTIVE
    assert [call[0] for call in pebble_calls] == ["replan"]


def test_status_is_maintenance_while_applying_then_active(ctx, state):
    out = ctx.run(ctx.on.config_changed(), state)

    assert ctx.unit_status_history[-1] == testing.MaintenanceStatus("applying the new settings")
    assert out.unit_status == testing.ActiveStatus()


def test_non_leader_leaves_the_app_status_alone(ctx, state):
    state = dataclasses.replace(state, leader=False, app_status=testing.UnknownStatus())

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert out.app_status == testing.UnknownStatus()


def test_lost_pebble_connection_waits(ctx, state, monkeypatch):
    def lost(*_args, **_kwargs):
        raise ops.pebble.ConnectionError("socket closed")

    monkeypatch.setattr(ops.Container, "get_plan", lost)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.WaitingStatus("waiting for Pebble: the connection was lost")


def test_pebble_refusing_a_change_blocks(ctx, state, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise ops.pebble.APIError({}, 400, "Bad Request", "layer is invalid")

    monkeypatch.setattr(ops.Container, "add_layer", refuse)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("Pebble refused the change: layer is invalid")


def test_pebble_failing_to_apply_a_change_blocks(ctx, state, monkeypatch):
    def fail(*_args, **_kwargs):
        raise ops.pebble.ChangeError("cannot start service: exited quickly", change=None)  # type: ignore[arg-type]

    monkeypatch.setattr(ops.Container, "replan", fail)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "Pebble could not apply the change: cannot start service: exited quickly"
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ops.pebble.TimeoutError("timed out"), "timed out after 120s"),
        (
            ops.pebble.ChangeError("first line\nexec failed: no such user\n", change=None),  # type: ignore[arg-type]
            "exec failed: no such user",
        ),
        (ops.pebble.ChangeError("  ", change=None), "exec failed"),  # type: ignore[arg-type]
        (ops.pebble.APIError({}, 404, "Not Found", "no such file"), "no such file"),
    ],
)
def test_a_check_that_cannot_run_blocks_with_the_reason(ctx, state, monkeypatch, error, reason):
    def broken_exec(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(ops.Container, "exec", broken_exec)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(f"gunicorn check failed: {reason}")


def test_missing_option_still_blocks_when_stopping_fails(make_ctx, state, monkeypatch, caplog):
    def fail(*_args, **_kwargs):
        raise ops.pebble.APIError({}, 500, "Internal Server Error", "boom")

    monkeypatch.setattr(ops.Container, "get_services", fail)
    ctx = make_ctx({"required-opt": {"type": "string", "optional": False}})

    with caplog.at_level(logging.WARNING):
        out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("missing config: required-opt")
    assert "could not stop" in caplog.text


def test_a_worker_class_change_alone_is_checked_before_use(make_ctx, state, workload):
    first = make_ctx()
    running = first.run(first.on.config_changed(), state)
    failing = testing.Exec(workload.gunicorn_prefix, return_code=1, stderr="bad worker\n")
    container = dataclasses.replace(
        running.get_container("flask-app"),
        execs=frozenset({failing, testing.Exec(workload.gevent_check)}),
    )
    ctx = make_ctx()

    out = ctx.run(
        ctx.on.config_changed(),
        dataclasses.replace(
            running, containers={container}, config={"webserver-worker-class": "gevent"}
        ),
    )

    [check] = ctx.exec_history["flask-app"]
    assert check.command[check.command.index("-k") + 1] == "gevent"
    assert out.unit_status == testing.BlockedStatus("gunicorn check failed: bad worker")
    assert _plan(out).services["flask"].command == workload.flask_command


def test_no_secret_is_written_through_a_symlink_in_dev_shm(ctx, state, workload, tmp_path):
    # /dev/shm is writable by the app's user: it could point the settings directory elsewhere.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (workload.shm_dir / "flask-k8s").symlink_to(elsewhere)

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, config={"token": "t1"}))

    assert out.unit_status == testing.BlockedStatus(
        "/dev/shm/flask-k8s is not a directory Pebble made; remove it in the flask-app container"
    )
    assert list(elsewhere.iterdir()) == []


def test_the_settings_directory_is_made_by_pebble(ctx, state, workload):
    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert (workload.shm_dir / "flask-k8s").is_dir()
    assert not (workload.shm_dir / "flask-k8s").is_symlink()
    assert (workload.shm_dir / "flask-k8s" / "environment.json").stat().st_mode & 0o777 == 0o600


def test_a_container_without_dev_shm_gets_the_settings_directory_made(ctx, state, workload):
    container = workload.container()
    mounts = {name: mount for name, mount in container.mounts.items() if name != "shm"}
    container = dataclasses.replace(container, mounts=mounts)

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    assert out.unit_status == testing.ActiveStatus()
    root = out.get_container("flask-app").get_filesystem(ctx)
    assert (root / "dev/shm/flask-k8s/environment.json").exists()
