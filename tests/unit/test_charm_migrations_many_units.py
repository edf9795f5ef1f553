"""Migrations on many units: the leader runs each one and records it for the others.

Each test runs hooks on the units of one application (``Cluster``), in the order Juju could
run them: every unit has its own container, and every unit reads the peer relation's
application databag as the leader last wrote it. The units' environments differ (their
peer lists, the unit in the tracing attributes), their migration inputs do not.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import json
import logging
import pathlib
import typing

import ops
import pytest
from ops import testing

from flask_k8s import _pebble_layer as pebble_plan
from tests.unit import conftest

PEER_ID = 7
MIGRATE_SH = ("bash", "-eo", "pipefail", "migrate.sh")
MODEL = testing.Model(name="test-model", uuid="0c5fdb8a-9b3e-4e3f-8d2c-7a1b2c3d4e5f")
ACTIVE = ops.pebble.ServiceStatus.ACTIVE
INACTIVE = ops.pebble.ServiceStatus.INACTIVE
WAITING = testing.WaitingStatus("waiting for the leader's migration")
# Tempo: each unit's OTEL_RESOURCE_ATTRIBUTES names the unit.
TRACING = testing.Relation(
    "tracing",
    id=3,
    remote_app_data={
        "receivers": json.dumps(
            [{"protocol": {"name": "otlp_http", "type": "http"}, "url": "http://tempo:4318"}]
        )
    },
)

# An event for a unit, given its context, its peer relation and the leader's number.
Event = collections.abc.Callable[[testing.Context, testing.PeerRelation, int], typing.Any]


def config_changed(ctx: testing.Context, _: testing.PeerRelation, __: int) -> typing.Any:
    return ctx.on.config_changed()


def peers_changed(ctx: testing.Context, peers: testing.PeerRelation, leader: int) -> typing.Any:
    """The leader changed the application databag (on the leader: a peer joined)."""
    remote = leader if leader in peers.peers_data else max(peers.peers_data)
    return ctx.on.relation_changed(peers, remote_unit=remote)


def leader_elected(ctx: testing.Context, _: testing.PeerRelation, __: int) -> typing.Any:
    return ctx.on.leader_elected()


def update_status(ctx: testing.Context, _: testing.PeerRelation, __: int) -> typing.Any:
    return ctx.on.update_status()


def migrate_action(ctx: testing.Context, _: testing.PeerRelation, __: int) -> typing.Any:
    return ctx.on.action("migrate")


@dataclasses.dataclass
class Hook:
    """One hook on one unit: its context (histories) and output state."""

    ctx: testing.Context
    out: testing.State
    # The action's failure message, if it called fail().
    failure: str | None = None

    @property
    def migrations(self) -> list[testing.ExecArgs]:
        return [run for run in self.ctx.exec_history.get(conftest.CONTAINER, []) if _migrates(run)]

    @property
    def commands(self) -> list[list[str]]:
        return [run.command for run in self.ctx.exec_history.get(conftest.CONTAINER, [])]

    @property
    def env(self) -> dict[str, str]:
        return conftest.flask_env(self.out)

    @property
    def flask(self) -> ops.pebble.ServiceStatus:
        statuses = self.out.get_container(conftest.CONTAINER).service_statuses
        return statuses.get("flask", INACTIVE)

    @property
    def status_messages(self) -> list[str]:
        """Every unit and app status the hook set."""
        ctx = self.ctx
        statuses = [*ctx.unit_status_history, *ctx.app_status_history, self.out.unit_status]
        return [status.message for status in statuses]


def _migrates(run: testing.ExecArgs) -> bool:
    return tuple(run.command) == MIGRATE_SH


def _only_checks_ran(hook: Hook) -> bool:
    """The unit ran gunicorn's --check-config and nothing else."""
    return bool(hook.commands) and all("--check-config" in command for command in hook.commands)


class Cluster:
    """The units of one application, as Juju runs them: one hook at a time, on one unit.

    Every unit has its own container (its files on the host) and gets the same config and
    secrets; the peer relation's application databag is the leader's output, carried into
    every unit's next hook. ``migration`` is what the rock's migrate.sh does on every unit.
    """

    def __init__(
        self,
        tmp_path: pathlib.Path,
        make_ctx: collections.abc.Callable[..., testing.Context],
        key_secret: testing.Secret,
        extra_options: dict[str, dict[str, typing.Any]] | None = None,
    ):
        self._tmp_path = tmp_path
        self._make_ctx = make_ctx
        self._extra_options = extra_options
        self.units: list[int] = []
        self.leader = 0
        self.config: dict[str, str | int | float | bool] = {"token": "v1"}
        self.secrets = {key_secret}
        self.app_data = {"secret-key-id": key_secret.id or ""}
        self.migration = testing.Exec(MIGRATE_SH, stdout="upgraded\n")
        self.workloads: dict[int, conftest.Workload] = {}
        self.containers: dict[int, testing.Container] = {}
        for _ in range(3):
            self.add_unit()

    def add_unit(self) -> int:
        """A new unit with the rock's fresh container; returns its number."""
        number = len(self.units)
        workload = conftest.Workload(self._tmp_path / f"unit-{number}")
        workload.add_app_file("migrate.sh", "flask db upgrade\n")
        self.units.append(number)
        self.workloads[number] = workload
        self.containers[number] = workload.container()
        return number

    def peers(self, number: int) -> testing.PeerRelation:
        """The peer relation as unit ``number`` sees it now."""
        return testing.PeerRelation(
            "secret-storage",
            id=PEER_ID,
            local_app_data=dict(self.app_data),
            peers_data={other: {} for other in self.units if other != number},
        )

    def state(self, number: int) -> testing.State:
        """What Juju gives unit ``number`` now."""
        workload = self.workloads[number]
        execs = {
            testing.Exec(workload.gunicorn_prefix),
            testing.Exec(workload.gevent_check),
            self.migration,
        }
        container = dataclasses.replace(self.containers[number], execs=frozenset(execs))
        return testing.State(
            leader=number == self.leader,
            model=MODEL,
            config=dict(self.config),
            containers={container},
            relations={self.peers(number), TRACING},
            secrets=set(self.secrets),
        )

    def run(self, number: int, event: Event = config_changed) -> Hook:
        """Run ``event`` on unit ``number``; keep its container and (leader) the databag."""
        ctx = self._make_ctx(self._extra_options, unit_id=number)
        failure = None
        try:
            out = ctx.run(event(ctx, self.peers(number), self.leader), self.state(number))
        except testing.ActionFailed as failed:
            failure = failed.message
            out = typing.cast("testing.State | None", failed.state)
            assert out is not None
        self.containers[number] = out.get_container(conftest.CONTAINER)
        if number == self.leader:
            self.app_data = dict(out.get_relation(PEER_ID).local_app_data)
        else:
            assert dict(out.get_relation(PEER_ID).local_app_data) == self.app_data
        return Hook(ctx, out, failure)

    @property
    def record(self) -> dict[str, typing.Any] | None:
        """The leader's migration record in the peer relation, as JSON."""
        field = self.app_data.get("migration")
        return json.loads(field) if field is not None else None

    def age_record(self, seconds: float) -> None:
        """Make the leader's record ``seconds`` older, as time passing would."""
        record = self.record
        assert record is not None
        record["at"] -= seconds
        self.app_data["migration"] = json.dumps(record)

    def roll_out(self) -> list[Hook]:
        """The leader first, then the others: every unit applies the current config."""
        hooks = [self.run(self.leader)]
        hooks += [self.run(unit, peers_changed) for unit in self.followers]
        assert all(hook.out.unit_status == testing.ActiveStatus() for hook in hooks)
        return hooks

    @property
    def followers(self) -> list[int]:
        return [unit for unit in self.units if unit != self.leader]


@pytest.fixture
def make_cluster(tmp_path, make_ctx, key_secret) -> collections.abc.Callable[..., Cluster]:
    """Three units; extra config options (the charm author's) may be passed."""
    return functools.partial(Cluster, tmp_path, make_ctx, key_secret)


@pytest.fixture
def cluster(make_cluster) -> Cluster:
    return make_cluster()


# The leader migrates, the others apply its recorded success.


def test_only_the_leader_migrates_and_the_others_start_once_it_recorded(cluster):
    # The others' hooks may come first: they wait, and do not start the app meanwhile.
    early = [cluster.run(unit) for unit in cluster.followers]

    for hook in early:
        assert hook.out.unit_status == WAITING
        assert hook.commands == []
        assert hook.env == {}
        assert hook.flask == INACTIVE
        assert pebble_plan.LAYER_LABEL not in hook.out.get_container(conftest.CONTAINER).layers
    assert cluster.record is None

    leader = cluster.run(cluster.leader)

    assert len(leader.migrations) == 1
    assert leader.out.unit_status == testing.ActiveStatus()
    assert leader.flask == ACTIVE
    record = cluster.record
    assert record is not None
    assert record["ok"] is True
    assert record["attempts"] == 0
    assert record["reason"] == ""
    assert len(record["digest"]) == 64

    late = [cluster.run(unit, peers_changed) for unit in cluster.followers]

    for hook in late:
        assert hook.out.unit_status == testing.ActiveStatus()
        assert hook.migrations == []
        assert _only_checks_ran(hook)
        assert hook.flask == ACTIVE
        assert hook.env["FLASK_TOKEN"] == "v1"
    # The same inputs, though each unit's environment names itself.
    envs = [leader.env, *(hook.env for hook in late)]
    assert len({env["OTEL_RESOURCE_ATTRIBUTES"] for env in envs}) == 3
    assert len({env["FLASK_PEER_FQDNS"] for env in envs}) == 3
    assert cluster.record == record


def test_a_unit_keeps_its_settings_until_the_leader_recorded_the_new_ones(cluster):
    leader, first_follower, _ = cluster.roll_out()
    assert leader.env["FLASK_TOKEN"] == "v1"
    cluster.config["token"] = "v2"
    follower = cluster.followers[0]
    settings_file = cluster.workloads[follower].shm_dir / "flask-k8s" / "environment.json"
    old_settings = settings_file.read_text()
    old_record = cluster.record

    # The record names the inputs of v1: not these.
    held = cluster.run(follower)

    assert held.out.unit_status == WAITING
    assert held.migrations == []
    assert settings_file.read_text() == old_settings
    assert held.env == first_follower.env
    assert held.env["FLASK_TOKEN"] == "v1"
    assert held.flask == ACTIVE
    assert cluster.record == old_record

    leader = cluster.run(cluster.leader)

    assert len(leader.migrations) == 1
    assert leader.migrations[0].environment["FLASK_TOKEN"] == "v2"
    assert leader.env["FLASK_TOKEN"] == "v2"
    record = cluster.record
    assert record is not None
    assert old_record is not None
    assert record["ok"] is True
    assert record["digest"] != old_record["digest"]

    released = cluster.run(follower, peers_changed)

    assert released.out.unit_status == testing.ActiveStatus()
    assert released.migrations == []
    assert released.env["FLASK_TOKEN"] == "v2"
    assert released.flask == ACTIVE


def test_a_settled_unit_runs_nothing_on_later_hooks(cluster):
    cluster.roll_out()

    hooks = [cluster.run(unit, update_status) for unit in cluster.units]

    for hook in hooks:
        assert hook.commands == []
        assert hook.out.unit_status == testing.ActiveStatus()


def test_scaling_out_reruns_no_migration_and_holds_no_unit(cluster):
    cluster.roll_out()
    record = cluster.record
    new = cluster.add_unit()

    joined = [cluster.run(unit, peers_changed) for unit in cluster.units]

    for hook in joined:
        assert hook.migrations == []
        assert hook.out.unit_status == testing.ActiveStatus()
        assert hook.flask == ACTIVE
        # The new unit is in every peer list.
        fqdns = hook.env["FLASK_PEER_FQDNS"].split(",")
        assert len(fqdns) == 3
    assert joined[new].env["FLASK_TOKEN"] == "v1"
    assert cluster.record == record


# A failure on the leader.


def test_a_failure_blocks_the_leader_and_the_others_wait_quoting_it(cluster):
    before = cluster.roll_out()
    cluster.config["token"] = "v2"
    cluster.migration = testing.Exec(
        MIGRATE_SH,
        return_code=1,
        stdout="upgrading a1 -> b2\n",
        stderr="sqlalchemy.exc.OperationalError: no such table: users\n",
    )
    reason = "sqlalchemy.exc.OperationalError: no such table: users"

    leader = cluster.run(cluster.leader)

    assert leader.out.unit_status == testing.BlockedStatus(f"migration failed: {reason}")
    assert leader.out.app_status == testing.BlockedStatus(f"migration failed: {reason}")
    assert leader.env["FLASK_TOKEN"] == "v1"
    assert leader.flask == ACTIVE
    record = cluster.record
    assert record is not None
    assert (record["ok"], record["reason"], record["attempts"]) == (False, reason, 1)

    others = [cluster.run(unit, peers_changed) for unit in cluster.followers]

    for hook, old in zip(others, before[1:], strict=True):
        assert hook.out.unit_status == testing.WaitingStatus(
            f"waiting for the leader's migration, which failed: {reason}"
        )
        assert hook.migrations == []
        assert hook.env == old.env
        assert hook.flask == ACTIVE


def test_a_secret_in_the_failing_output_shows_in_no_status_databag_or_log(make_cluster, caplog):
    config_key = "SuperSecretKey-Zx81Qw"
    api_token = "ApiToken-Pp42Lm-distinctive"
    creds = testing.Secret({"token": api_token})
    cluster = make_cluster({"api-creds": {"type": "secret"}})
    cluster.config.update({"flask-secret-key": config_key, "api-creds": creds.id})
    cluster.secrets.add(creds)
    cluster.migration = testing.Exec(
        MIGRATE_SH,
        return_code=1,
        stdout=f"environment: FLASK_SECRET_KEY={config_key}\n",
        stderr=f"could not connect with key {config_key} and token {api_token}\n",
    )

    with caplog.at_level(logging.DEBUG):
        hooks = [cluster.run(cluster.leader)]
        hooks += [cluster.run(unit, peers_changed) for unit in cluster.followers]
        action = cluster.run(cluster.leader, migrate_action)

    reason = "could not connect with key *** and token ***"
    assert hooks[0].out.unit_status == testing.BlockedStatus(f"migration failed: {reason}")
    for hook in hooks[1:]:
        assert hook.out.unit_status == testing.WaitingStatus(
            f"waiting for the leader's migration, which failed: {reason}"
        )
    assert action.failure == f"migration failed: {reason}"
    record = cluster.record
    assert record is not None
    assert record["reason"] == reason
    assert "migration failed" in caplog.text
    results = action.ctx.action_results or {}
    for secret in (config_key, api_token):
        for hook in [*hooks, action]:
            assert all(secret not in message for message in hook.status_messages)
            bags = [r.local_app_data for r in hook.out.relations]
            assert all(secret not in value for bag in bags for value in bag.values())
        assert secret not in (action.failure or "")
        assert secret not in json.dumps(results)
        assert secret not in caplog.text
    assert "***" in results["output"]


@pytest.mark.parametrize("field", ["not json", "{}", '{"digest": 42, "ok": "yes"}', "[]"])
def test_a_garbled_record_reads_as_no_record(cluster, field):
    cluster.app_data["migration"] = field

    follower = cluster.run(1)
    leader = cluster.run(cluster.leader)

    assert follower.out.unit_status == WAITING
    assert len(leader.migrations) == 1
    assert leader.out.unit_status == testing.ActiveStatus()
    record = cluster.record
    assert record is not None
    assert record["ok"] is True


@pytest.mark.parametrize(
    "field", ['{"digest": "d", "ok": true, "at": 1' + "0" * 400 + "}", "[" * 100_000]
)
def test_an_unparsable_record_fails_no_hook(cluster, field):
    cluster.app_data["migration"] = field

    leader = cluster.run(cluster.leader)

    assert len(leader.migrations) == 1
    assert leader.out.unit_status == testing.ActiveStatus()


# A new leader.


def test_a_new_leader_does_not_rerun_the_old_leaders_recorded_success(cluster):
    # Unit 1 is still waiting when unit 0, having migrated, loses the leadership.
    held = cluster.run(1)
    assert held.out.unit_status == WAITING
    cluster.run(0)
    record = cluster.record
    cluster.leader = 1

    new_leader = cluster.run(1, leader_elected)

    assert new_leader.migrations == []
    assert new_leader.out.unit_status == testing.ActiveStatus()
    assert new_leader.flask == ACTIVE
    assert new_leader.env["FLASK_TOKEN"] == "v1"
    assert cluster.record == record


def test_a_new_leader_reruns_a_recorded_failure_only_after_its_backoff(cluster):
    cluster.roll_out()
    cluster.config["token"] = "v2"
    cluster.migration = testing.Exec(MIGRATE_SH, return_code=1, stderr="database is locked\n")
    blocked = testing.BlockedStatus("migration failed: database is locked")
    # The old leader fails twice: the next try is 2 minutes after the second failure.
    assert cluster.run(0).out.unit_status == blocked
    cluster.age_record(61)
    assert cluster.run(0, update_status).out.unit_status == blocked
    record = cluster.record
    assert record is not None
    assert record["attempts"] == 2
    cluster.migration = testing.Exec(MIGRATE_SH)
    cluster.leader = 1

    elected = cluster.run(1, leader_elected)

    assert elected.migrations == []
    assert elected.out.unit_status == blocked
    assert elected.env["FLASK_TOKEN"] == "v1"
    assert cluster.record == record

    cluster.age_record(61)
    still = cluster.run(1, update_status)

    assert still.migrations == []
    assert still.out.unit_status == blocked

    cluster.age_record(60)
    retried = cluster.run(1, update_status)

    assert len(retried.migrations) == 1
    assert retried.out.unit_status == testing.ActiveStatus()
    assert retried.env["FLASK_TOKEN"] == "v2"
    new_record = cluster.record
    assert new_record is not None
    assert (new_record["ok"], new_record["attempts"]) == (True, 0)
    assert new_record["digest"] == record["digest"]

    # The old leader, now a follower, applies the new leader's success without migrating.
    follower = cluster.run(0, peers_changed)

    assert follower.migrations == []
    assert follower.out.unit_status == testing.ActiveStatus()
    assert follower.env["FLASK_TOKEN"] == "v2"


# The migrate action.


def test_the_migrate_action_runs_now_returns_its_output_and_applies_the_settings(cluster):
    cluster.roll_out()
    cluster.config["token"] = "v2"
    cluster.migration = testing.Exec(MIGRATE_SH, return_code=1, stderr="database is locked\n")
    assert cluster.run(cluster.leader).out.unit_status.name == "blocked"
    # The database is back; the operator does not wait for the backoff.
    steps = [f"step {number:03d}" for number in range(1, 101)]
    cluster.migration = testing.Exec(MIGRATE_SH, stdout="\n".join(steps) + "\n")

    action = cluster.run(cluster.leader, migrate_action)

    assert action.failure is None
    assert len(action.migrations) == 1
    results = action.ctx.action_results
    assert results is not None
    assert results["exit-code"] == 0
    output = results["output"]
    assert output.splitlines()[-1] == "step 100"
    assert "step 001" not in output
    assert ("\n".join(steps)).endswith(output)
    record = cluster.record
    assert record is not None
    assert (record["ok"], record["attempts"], record["reason"]) == (True, 0, "")
    assert action.out.unit_status == testing.ActiveStatus()
    assert action.env["FLASK_TOKEN"] == "v2"

    follower = cluster.run(1, peers_changed)

    assert follower.migrations == []
    assert follower.env["FLASK_TOKEN"] == "v2"


def test_a_failing_migrate_action_fails_with_the_reason_and_returns_the_exit_code(cluster):
    cluster.migration = testing.Exec(
        MIGRATE_SH, return_code=3, stdout="upgrading a1 -> b2\n", stderr="no such table: users\n"
    )

    action = cluster.run(cluster.leader, migrate_action)

    assert action.failure == "migration failed: no such table: users"
    # Once: the reconcile after it does not run it again within the backoff.
    assert len(action.migrations) == 1
    results = action.ctx.action_results
    assert results is not None
    assert results["exit-code"] == 3
    assert "upgrading a1 -> b2" in results["output"]
    assert "no such table: users" in results["output"]
    record = cluster.record
    assert record is not None
    assert (record["ok"], record["reason"], record["attempts"]) == (
        False,
        "no such table: users",
        1,
    )
    assert action.out.unit_status == testing.BlockedStatus(
        "migration failed: no such table: users"
    )
    assert action.env == {}
    assert action.flask == INACTIVE


def test_a_failed_rerun_of_applied_inputs_does_not_hold_a_new_unit_forever(cluster):
    cluster.roll_out()
    cluster.migration = testing.Exec(MIGRATE_SH, return_code=1, stderr="database is locked\n")
    action = cluster.run(cluster.leader, migrate_action)
    assert action.failure == "migration failed: database is locked"
    # The leader keeps serving the inputs its last success migrated.
    assert action.out.unit_status == testing.ActiveStatus()
    cluster.migration = testing.Exec(MIGRATE_SH)
    new = cluster.add_unit()
    cluster.run(new)

    # Long after the backoff, the leader and the new unit get their next hooks.
    cluster.age_record(3600)
    cluster.run(cluster.leader, update_status)
    later = cluster.run(new, peers_changed)

    assert later.out.unit_status == testing.ActiveStatus()
    assert later.env["FLASK_TOKEN"] == "v1"


def test_the_migrate_action_elsewhere_than_the_leader_names_the_leader(cluster):
    cluster.roll_out()
    record = cluster.record

    action = cluster.run(1, migrate_action)

    assert action.failure is not None
    assert "juju run flask-k8s/leader migrate" in action.failure
    assert action.ctx.exec_history == {}
    assert cluster.record == record


def test_the_migrate_action_without_a_script_says_the_rock_has_none(make_ctx, state):
    ctx = make_ctx()

    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(ctx.on.action("migrate"), state)

    assert "the rock has no migration script" in failed.value.message
    assert ctx.exec_history == {}
    out = typing.cast("testing.State | None", failed.value.state)
    assert out is not None
    peers = out.get_relation(next(iter(state.relations)).id)
    assert "migration" not in peers.local_app_data


# migration-timeout


@pytest.mark.parametrize(("config", "timeout"), [({}, 600.0), ({"migration-timeout": 42}, 42.0)])
@pytest.mark.parametrize("event", [config_changed, migrate_action])
def test_the_migration_may_run_for_migration_timeout_seconds(cluster, config, timeout, event):
    cluster.config.update(config)

    hook = cluster.run(cluster.leader, event)

    [migration] = hook.migrations
    assert migration.timeout == timeout
    assert hook.out.unit_status == testing.ActiveStatus()


def test_migration_timeout_is_not_exported_to_the_app(cluster):
    cluster.config["migration-timeout"] = 42

    hooks = cluster.roll_out()

    for hook in hooks:
        assert not [name for name in hook.env if "MIGRATION_TIMEOUT" in name]
    [migration] = hooks[0].migrations
    assert not [name for name in migration.environment if "MIGRATION_TIMEOUT" in name]


def test_a_migration_that_times_out_fails_naming_the_timeout(cluster, monkeypatch):
    exec_ = ops.Container.exec

    def exec_that_times_out(self: ops.Container, command: list[str], **kwargs: typing.Any):
        process = exec_(self, command, **kwargs)
        if tuple(command) == MIGRATE_SH:

            def wait_output() -> typing.NoReturn:
                raise ops.pebble.TimeoutError("timed out waiting for change 42")

            monkeypatch.setattr(process, "wait_output", wait_output)
        return process

    monkeypatch.setattr(ops.Container, "exec", exec_that_times_out)
    cluster.config["migration-timeout"] = 42

    leader = cluster.run(cluster.leader)
    follower = cluster.run(1, peers_changed)

    assert leader.out.unit_status == testing.BlockedStatus("migration failed: timed out after 42s")
    assert follower.out.unit_status == testing.WaitingStatus(
        "waiting for the leader's migration, which failed: timed out after 42s"
    )


@pytest.mark.parametrize(
    ("options", "value", "message"),
    [
        (None, 0, "invalid config: migration-timeout must be at least 1"),
        (None, -5, "invalid config: migration-timeout must be at least 1"),
        # A charm that declares the option as a string.
        (
            {"migration-timeout": {"type": "string"}},
            "ten minutes",
            "invalid config: migration-timeout must be an integer",
        ),
    ],
)
@pytest.mark.parametrize("is_leader", [True, False])
def test_a_bad_migration_timeout_blocks_naming_the_option(
    make_cluster, options, value, message, is_leader
):
    cluster = make_cluster(options)
    cluster.config["migration-timeout"] = value

    hook = cluster.run(0 if is_leader else 1)

    assert hook.out.unit_status == testing.BlockedStatus(message)
    assert hook.commands == []
    assert hook.env == {}


def test_the_migrate_action_with_a_bad_migration_timeout_runs_nothing(cluster):
    cluster.config["migration-timeout"] = 0

    action = cluster.run(cluster.leader, migrate_action)

    assert action.failure == (
        "no migration ran: invalid config: migration-timeout must be at least 1"
    )
    assert action.ctx.exec_history == {}
    assert cluster.record is None
