"""Integrations through the charm: required ones, answers changing, the app's lifecycle."""

from __future__ import annotations

import dataclasses
import typing

import ops
import pytest
import yaml
from ops import testing

import charm
from tests.unit import conftest
from tests.unit.conftest import CHARM_ROOT

ACTIVE = ops.pebble.ServiceStatus.ACTIVE
INACTIVE = ops.pebble.ServiceStatus.INACTIVE


def required(*endpoints: str) -> testing.Context:
    """The charm with some integrations made required (``optional: false``)."""
    meta = yaml.safe_load((CHARM_ROOT / "charmcraft.yaml").read_text())
    for endpoint in endpoints:
        meta["requires"][endpoint]["optional"] = False
    return testing.Context(charm.FlaskK8sCharm, meta=meta)


def postgresql(password: str = "pw1") -> tuple[testing.Relation, testing.Secret]:
    user = testing.Secret({"username": "u", "password": password}, owner=None)
    rel = testing.Relation(
        "postgresql",
        remote_app_data={
            "database": "flask-k8s",
            "endpoints": "db:5432",
            "secret-user": user.id or "",
        },
    )
    return rel, user


def running(workload, **kwargs: typing.Any) -> testing.Container:
    return workload.container(
        service_statuses={"flask": ACTIVE, "statsd-exporter": ACTIVE}, **kwargs
    )


def statuses(out: testing.State) -> dict[str, str]:
    return {
        name: status.value
        for name, status in out.get_container("flask-app").service_statuses.items()
    }


def test_a_required_integration_that_is_absent_blocks_and_stops_the_app(state, workload):
    ctx = required("postgresql", "mongodb")
    state = dataclasses.replace(state, containers={running(workload)})

    out = ctx.run(ctx.on.config_changed(), state)

    # Sorted, so the message does not depend on the metadata's key order.
    assert out.unit_status == testing.BlockedStatus("missing integrations: mongodb, postgresql")
    assert statuses(out) == {"flask": "inactive", "statsd-exporter": "active"}


def test_a_required_integration_not_ready_yet_counts_as_missing(state):
    ctx = required("postgresql")
    rel = testing.Relation("postgresql", remote_app_data={"database": "flask-k8s"})

    out = ctx.run(
        ctx.on.relation_changed(rel, remote_unit=0),
        dataclasses.replace(state, relations={*state.relations, rel}),
    )

    assert out.unit_status == testing.BlockedStatus("missing integrations: postgresql")
    assert conftest.flask_env(out) == {}


def test_missing_config_and_missing_integrations_are_named_together(make_ctx, state):
    meta = yaml.safe_load((CHARM_ROOT / "charmcraft.yaml").read_text())
    meta["requires"]["postgresql"]["optional"] = False
    meta["config"]["options"]["api-url"] = {"type": "string", "optional": False}
    ctx = testing.Context(charm.FlaskK8sCharm, meta=meta)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "missing config: api-url; missing integrations: postgresql"
    )


def test_a_required_integration_ready_lets_the_app_run(state):
    ctx = required("postgresql")
    rel, user = postgresql()

    out = ctx.run(
        ctx.on.relation_changed(rel, remote_unit=0),
        dataclasses.replace(
            state, relations={*state.relations, rel}, secrets={*state.secrets, user}
        ),
    )

    assert out.unit_status == testing.ActiveStatus()
    env = conftest.flask_env(out)
    assert env["POSTGRESQL_DB_HOSTNAME"] == "db"


def test_when_a_required_integration_goes_away_the_app_stops_and_the_exporter_runs(
    state, workload
):
    ctx = required("postgresql")
    rel, user = postgresql()
    state = dataclasses.replace(
        state,
        containers={running(workload)},
        relations={*state.relations, rel},
        secrets={*state.secrets, user},
    )

    out = ctx.run(ctx.on.relation_broken(rel), state)

    assert out.unit_status == testing.BlockedStatus("missing integrations: postgresql")
    assert statuses(out) == {"flask": "inactive", "statsd-exporter": "active"}


def test_an_optional_integration_going_away_removes_its_variables(ctx, state, workload):
    rel, user = postgresql()
    state = dataclasses.replace(
        state, relations={*state.relations, rel}, secrets={*state.secrets, user}
    )
    related = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)
    assert "POSTGRESQL_DB_HOSTNAME" in conftest.flask_env(related)

    out = ctx.run(ctx.on.relation_broken(related.get_relation(rel.id)), related)

    env = conftest.flask_env(out)
    assert not any(name.startswith("POSTGRESQL_") for name in env)
    assert out.unit_status == testing.ActiveStatus()


@pytest.fixture
def migrating(workload, state) -> testing.State:
    workload.add_app_file("migrate.sh", "echo ok\n")
    bash = testing.Exec(["bash", "-eo", "pipefail", "migrate.sh"])
    return dataclasses.replace(state, containers={workload.container(execs=[bash])})


def migrations_run(ctx: testing.Context) -> int:
    return sum(
        1
        for call in ctx.exec_history.get("flask-app", [])
        if call.command == ["bash", "-eo", "pipefail", "migrate.sh"]
    )


def test_a_changed_database_answer_reruns_the_migration(make_ctx, migrating):
    ctx = make_ctx()
    rel, user = postgresql("pw1")
    state = dataclasses.replace(
        migrating, relations={*migrating.relations, rel}, secrets={*migrating.secrets, user}
    )
    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)
    ctx.run(ctx.on.update_status(), out)
    assert migrations_run(ctx) == 1

    new = {"username": "u", "password": "pw2"}
    rotated = dataclasses.replace(user, tracked_content=new, latest_content=new)
    ctx.run(
        ctx.on.secret_changed(rotated),
        dataclasses.replace(out, secrets={*migrating.secrets, rotated}),
    )

    assert migrations_run(ctx) == 2
