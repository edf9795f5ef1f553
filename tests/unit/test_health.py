"""Pebble's checks in the unit's status: Active only while the app is alive and ready."""

from __future__ import annotations

import dataclasses
import json

import ops
import pytest
from ops import testing

DOWN = ops.pebble.CheckStatus.DOWN
UP = ops.pebble.CheckStatus.UP
LEVELS = {
    "flask-alive": ops.pebble.CheckLevel.ALIVE,
    "flask-ready": ops.pebble.CheckLevel.READY,
    "statsd-exporter-alive": ops.pebble.CheckLevel.ALIVE,
}


def with_checks(ctx, state: testing.State, **checks: tuple[ops.pebble.CheckStatus, int]):
    """The state after the charm applied its layer, with Pebble's checks reporting ``checks``."""
    applied = ctx.run(ctx.on.config_changed(), state)
    plan_checks = applied.get_container("flask-app").plan.checks
    container = dataclasses.replace(
        applied.get_container("flask-app"),
        check_infos=frozenset(
            testing.CheckInfo(
                name,
                level=LEVELS[name],
                status=status,
                failures=failures,
                threshold=plan_checks[name].threshold or 3,
            )
            for name, (status, failures) in checks.items()
        ),
    )
    return dataclasses.replace(applied, containers={container})


def test_a_failing_readiness_check_is_reported_on_update_status(ctx, state):
    state = with_checks(ctx, state, **{"flask-ready": (DOWN, 18), "flask-alive": (UP, 0)})

    out = ctx.run(ctx.on.update_status(), state)

    assert out.unit_status == testing.MaintenanceStatus(
        "app not ready: readiness check failing for 3m00s"
    )


def test_failures_below_the_threshold_do_not_flap_the_status(ctx, state):
    state = with_checks(ctx, state, **{"flask-ready": (UP, 2)})

    out = ctx.run(ctx.on.update_status(), state)

    assert out.unit_status == testing.ActiveStatus()


def test_liveness_is_reported_before_readiness(ctx, state):
    state = with_checks(ctx, state, **{"flask-ready": (DOWN, 3), "flask-alive": (DOWN, 4)})

    out = ctx.run(ctx.on.update_status(), state)

    assert out.unit_status == testing.MaintenanceStatus(
        "app not alive: nothing accepts connections on port 8000 for 40s"
    )


def test_a_silent_exporter_is_reported(ctx, state):
    state = with_checks(ctx, state, **{"statsd-exporter-alive": (DOWN, 3)})

    out = ctx.run(ctx.on.update_status(), state)

    assert out.unit_status == testing.MaintenanceStatus(
        "metrics exporter not answering: statsd-exporter check failing for 1m30s"
    )


@pytest.mark.parametrize("event", ["pebble_check_failed", "pebble_check_recovered"])
def test_check_events_reconcile_the_status(ctx, state, event):
    state = with_checks(ctx, state, **{"flask-ready": (DOWN, 3)})
    container = next(iter(state.containers))
    info = next(iter(container.check_infos))

    out = ctx.run(getattr(ctx.on, event)(container, info), state)

    assert out.unit_status == testing.MaintenanceStatus(
        "app not ready: readiness check failing for 30s"
    )


def test_the_layer_carries_the_checks(ctx, state):
    out = ctx.run(ctx.on.config_changed(), state)

    checks = out.get_container("flask-app").plan.checks
    assert set(checks) == {"flask-alive", "flask-ready", "statsd-exporter-alive"}
    assert checks["flask-ready"].http == {"url": "http://localhost:8000/"}


def test_changing_the_readiness_path_changes_only_the_check(ctx, state):
    out = ctx.run(ctx.on.config_changed(), state)
    before = out.get_container("flask-app").plan.services

    out = ctx.run(
        ctx.on.config_changed(),
        dataclasses.replace(out, config={"webserver-readiness-path": "/healthz"}),
    )

    plan = out.get_container("flask-app").plan
    assert plan.checks["flask-ready"].http == {"url": "http://localhost:8000/healthz"}
    assert plan.services == before


def _with_app_side(workload, tmp_path, installed: bool) -> testing.Container:
    """The rock's container, its Python at /bin/python3 with packages under /lib."""
    packages = tmp_path / "lib" / "python3.12" / "site-packages"
    packages.mkdir(parents=True)
    (packages / "flask-3.1.3.dist-info").mkdir()
    if installed:
        (packages / "flask_k8s_app-0.1.0.dist-info").mkdir()
    container = workload.container()
    mounts = {**container.mounts, "lib": testing.Mount(location="/lib", source=tmp_path / "lib")}
    return dataclasses.replace(container, mounts=mounts)


def test_a_rock_with_flask_k8s_app_is_checked_through_its_dockerflow_endpoints(
    ctx, state, workload, tmp_path
):
    container = _with_app_side(workload, tmp_path, installed=True)

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    checks = out.get_container("flask-app").plan.checks
    assert checks["flask-alive"].tcp == {"port": 8000}
    assert checks["flask-ready"].http == {"url": "http://localhost:8000/__heartbeat__"}


def test_a_rock_without_flask_k8s_app_is_checked_by_port_and_readiness_path(
    ctx, state, workload, tmp_path
):
    container = _with_app_side(workload, tmp_path, installed=False)

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    checks = out.get_container("flask-app").plan.checks
    assert checks["flask-alive"].tcp == {"port": 8000}
    assert checks["flask-ready"].http == {"url": "http://localhost:8000/"}


def test_the_rock_is_looked_at_once_per_container(ctx, state, workload, tmp_path):
    container = _with_app_side(workload, tmp_path, installed=True)
    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))
    # The rock cannot change under a running container: the first look is recorded.
    for item in (tmp_path / "lib" / "python3.12" / "site-packages").iterdir():
        item.rmdir()

    out = ctx.run(ctx.on.update_status(), out)

    checks = out.get_container("flask-app").plan.checks
    assert checks["flask-ready"].http == {"url": "http://localhost:8000/__heartbeat__"}


def test_a_record_from_before_the_rocks_facts_is_completed(ctx, state, workload, tmp_path):
    container = _with_app_side(workload, tmp_path, installed=True)
    rock_services = {"flask": {"override": "replace", "command": workload.flask_command}}
    (workload.state_dir / "rock-services.json").write_text(json.dumps(rock_services))

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers={container}))

    record = json.loads((workload.state_dir / "rock-services.json").read_text())
    assert record["services"] == rock_services
    assert record["has_app_side"] is True
    checks = out.get_container("flask-app").plan.checks
    assert checks["flask-ready"].http == {"url": "http://localhost:8000/__heartbeat__"}


@pytest.mark.parametrize("option", ["basic", "dockerflow"])
def test_the_health_checks_option_wins_over_what_the_rock_has(
    ctx, state, workload, tmp_path, option
):
    container = _with_app_side(workload, tmp_path, installed=option == "basic")
    state = dataclasses.replace(
        state, containers={container}, config={"webserver-health-checks": option}
    )

    out = ctx.run(ctx.on.config_changed(), state)

    ready = out.get_container("flask-app").plan.checks["flask-ready"]
    assert ready.http is not None
    assert ready.http["url"].endswith("/__heartbeat__") == (option == "dockerflow")


def test_a_failing_heartbeat_without_pebbles_log_keeps_the_plain_message(
    ctx, state, workload, tmp_path
):
    container = _with_app_side(workload, tmp_path, installed=True)
    state = with_checks(
        ctx, dataclasses.replace(state, containers={container}), **{"flask-ready": (DOWN, 1)}
    )

    out = ctx.run(ctx.on.update_status(), state)

    assert out.unit_status == testing.MaintenanceStatus(
        "app not ready: readiness check failing for 10s"
    )
