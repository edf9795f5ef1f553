"""Pebble's checks in the unit's status: Active only while the app is alive and ready."""

from __future__ import annotations

import dataclasses

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
    container = dataclasses.replace(
        applied.get_container("flask-app"),
        check_infos=frozenset(
            testing.CheckInfo(
                name,
                level=LEVELS[name],
                status=status,
                failures=failures,
                threshold=3,
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
