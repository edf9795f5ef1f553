"""Who runs a migration on many units: the leader's record, its backoff, and the gate.

``Record`` is what the leader writes in the peer relation and every unit reads back, so a
garbled field must read as no record, never as an exception. ``gate`` decides, from that
record, whether this unit runs the migration now or holds its new settings back with the
status that says why. The digest names a migration's inputs: what differs between units
must not count, or every unit would wait for a record the leader never writes.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flask_k8s import _migrations as migrations
from flask_k8s import _status as status
from tests.unit.integrations.test_properties import PURE

NOW = 1_750_000_000.0
DIGEST = "a" * 64
OTHER = "b" * 64

records = st.builds(
    migrations.Record,
    digest=st.text(),
    ok=st.booleans(),
    reason=st.text(max_size=200),
    at=st.floats(allow_nan=False, allow_infinity=False),
    attempts=st.integers(min_value=0, max_value=1000),
)
# Integers within a float's range: one beyond it is a known bug, pinned below.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
# A dict with the record's keys, each holding a value of its type or any JSON value.
record_shaped = st.fixed_dictionaries(
    {"digest": st.text() | json_values, "ok": st.booleans() | json_values},
    optional={
        "reason": st.text() | json_values,
        "at": st.floats() | json_values,
        "attempts": st.integers(-5, 2000) | json_values,
        "extra": json_values,
    },
)


def _field(**fields: object) -> str:
    """The peer relation field holding these fields, as JSON (NaN and infinities allowed)."""
    return json.dumps({"digest": DIGEST, "ok": True, **fields})


# Record


@PURE
@given(records)
def test_a_record_reads_back_as_itself(record):
    assert migrations.Record.from_json(record.to_json()) == record


def test_a_record_is_a_json_object_with_its_five_fields():
    record = migrations.Record(DIGEST, ok=False, reason="no such table", at=NOW, attempts=2)

    assert json.loads(record.to_json()) == {
        "digest": DIGEST,
        "ok": False,
        "reason": "no such table",
        "at": NOW,
        "attempts": 2,
    }


def test_reason_at_and_attempts_may_be_left_out():
    assert migrations.Record.from_json(json.dumps({"digest": DIGEST, "ok": True})) == (
        migrations.Record(DIGEST, ok=True, reason="", at=0.0, attempts=0)
    )


def test_an_integer_time_reads_as_a_float():
    record = migrations.Record.from_json(_field(at=12))

    assert record is not None
    assert record.at == 12.0
    assert isinstance(record.at, float)


def test_a_long_reason_is_cut_and_attempts_are_capped():
    record = migrations.Record.from_json(_field(ok=False, reason="x" * 500, attempts=10**9))

    assert record is not None
    assert record.reason == "x" * 200
    assert record.attempts == 1000


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "not json",
        "{",
        "null",
        "[]",
        '"migration"',
        "42",
        "{}",
        json.dumps([{"digest": DIGEST, "ok": True}]),
        json.dumps({"ok": True}),
        json.dumps({"digest": DIGEST}),
        json.dumps({"digest": None, "ok": True}),
        json.dumps({"digest": 42, "ok": True}),
        _field(ok="true"),
        _field(ok=1),
        _field(ok=None),
        _field(reason=None),
        _field(reason=["no", "such", "table"]),
        _field(at="1750000000"),
        _field(at=None),
        _field(at=True),
        _field(at=False),
        _field(at=math.nan),
        _field(at=math.inf),
        _field(at=-math.inf),
        _field(attempts=-1),
        _field(attempts=1.0),
        _field(attempts=1.5),
        _field(attempts="3"),
        _field(attempts=True),
        _field(attempts=None),
    ],
)
def test_anything_that_is_not_a_record_reads_as_none(text):
    assert migrations.Record.from_json(text) is None


@PURE
@given(st.text())
def test_any_text_reads_as_a_record_or_none_and_never_raises(text):
    record = migrations.Record.from_json(text)

    assert record is None or isinstance(record, migrations.Record)


@PURE
@given(record_shaped)
def test_a_record_read_from_any_json_has_fields_of_the_right_types(value):
    record = migrations.Record.from_json(json.dumps(value))

    if record is not None:
        assert isinstance(record.digest, str)
        assert isinstance(record.ok, bool)
        assert isinstance(record.reason, str)
        assert len(record.reason) <= 200
        assert isinstance(record.at, float)
        assert math.isfinite(record.at)
        assert type(record.attempts) is int
        assert 0 <= record.attempts <= 1000


def test_a_time_too_large_for_a_float_reads_as_none():
    assert migrations.Record.from_json(_field(at=10**400)) is None


def test_deeply_nested_json_reads_as_none():
    assert migrations.Record.from_json("[" * 100_000) is None


# failed_again


def test_a_first_failure_is_attempt_one():
    last = migrations.Record(OTHER, ok=True, at=NOW - 3600)

    failed = last.failed_again(DIGEST, "no such table", NOW)

    assert failed == migrations.Record(
        DIGEST, ok=False, reason="no such table", at=NOW, attempts=1
    )


def test_failing_again_with_the_same_inputs_counts_one_more_attempt():
    last = migrations.Record(DIGEST, ok=False, reason="locked", at=NOW - 60, attempts=3)

    failed = last.failed_again(DIGEST, "still locked", NOW)

    assert failed == migrations.Record(DIGEST, ok=False, reason="still locked", at=NOW, attempts=4)


def test_a_failure_with_other_inputs_starts_the_count_again():
    last = migrations.Record(OTHER, ok=False, reason="locked", at=NOW - 60, attempts=5)

    assert last.failed_again(DIGEST, "locked", NOW).attempts == 1


def test_a_failure_after_a_success_with_the_same_inputs_starts_the_count_again():
    last = migrations.Record(DIGEST, ok=True, at=NOW - 60)

    assert last.failed_again(DIGEST, "locked", NOW).attempts == 1


def test_a_failures_reason_is_cut_to_what_the_record_keeps():
    failed = migrations.Record(DIGEST, ok=True).failed_again(DIGEST, "y" * 500, NOW)

    assert failed.reason == "y" * 200


# backoff


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(1, 60), (2, 120), (3, 240), (4, 480), (5, 960), (6, 1800), (7, 1800), (50, 1800)],
)
def test_backoff_starts_at_a_minute_and_doubles_up_to_half_an_hour(attempts, seconds):
    assert migrations.backoff(attempts) == seconds


@pytest.mark.parametrize("attempts", [1024, 10**6, 10**100])
def test_backoff_of_huge_attempts_is_half_an_hour_without_overflow(attempts):
    assert migrations.backoff(attempts) == 1800


@PURE
@given(st.integers(min_value=1, max_value=10**6))
def test_backoff_never_shrinks_with_more_attempts(attempts):
    assert 60 <= migrations.backoff(attempts) <= migrations.backoff(attempts + 1) <= 1800


# gate


def test_the_leader_runs_a_migration_nobody_recorded():
    assert migrations.gate(DIGEST, None, is_leader=True, now=NOW) is True


@pytest.mark.parametrize("ok", [True, False])
def test_the_leader_runs_at_once_when_the_record_is_of_other_inputs(ok):
    # A failure of other inputs is no reason to wait: the inputs changed.
    record = migrations.Record(OTHER, ok=ok, reason="locked", at=NOW, attempts=5)

    assert migrations.gate(DIGEST, record, is_leader=True, now=NOW) is True


@pytest.mark.parametrize("is_leader", [True, False])
def test_no_unit_runs_a_migration_recorded_as_done(is_leader):
    record = migrations.Record(DIGEST, ok=True, at=NOW - 10)

    assert migrations.gate(DIGEST, record, is_leader=is_leader, now=NOW) is False


@pytest.mark.parametrize(
    ("attempts", "elapsed"),
    [(1, 0), (1, 59.9), (2, 119), (3, 239), (6, 1799), (1000, 1799)],
)
def test_the_leader_is_blocked_with_the_reason_while_the_backoff_lasts(attempts, elapsed):
    record = migrations.Record(
        DIGEST, ok=False, reason="no such table", at=NOW - elapsed, attempts=attempts
    )

    with pytest.raises(status.Blocked) as raised:
        migrations.gate(DIGEST, record, is_leader=True, now=NOW)

    assert raised.value.message == "migration failed: no such table"


@pytest.mark.parametrize(
    ("attempts", "elapsed"), [(1, 60), (1, 3600), (2, 120), (3, 240), (6, 1800), (1000, 1800)]
)
def test_the_leader_retries_a_failure_once_the_backoff_is_over(attempts, elapsed):
    record = migrations.Record(
        DIGEST, ok=False, reason="no such table", at=NOW - elapsed, attempts=attempts
    )

    assert migrations.gate(DIGEST, record, is_leader=True, now=NOW) is True


@pytest.mark.parametrize(
    "record",
    [
        None,
        migrations.Record(OTHER, ok=True, at=NOW),
        migrations.Record(OTHER, ok=False, reason="locked", at=NOW, attempts=1),
    ],
)
def test_a_unit_that_is_not_the_leader_waits_for_a_record_of_its_inputs(record):
    with pytest.raises(status.Waiting) as raised:
        migrations.gate(DIGEST, record, is_leader=False, now=NOW)

    assert raised.value.message == "waiting for the leader's migration"


@pytest.mark.parametrize("elapsed", [0, 3600])
def test_a_unit_that_is_not_the_leader_waits_quoting_the_leaders_failure(elapsed):
    # Even once the backoff is over: only the leader retries.
    record = migrations.Record(
        DIGEST, ok=False, reason="no such table", at=NOW - elapsed, attempts=1
    )

    with pytest.raises(status.Waiting) as raised:
        migrations.gate(DIGEST, record, is_leader=False, now=NOW)

    assert (
        raised.value.message == "waiting for the leader's migration, which failed: no such table"
    )


# plan: the digest


ENV = {
    "FLASK_ENV": "production",
    "FLASK_TOKEN": "v1",
    "OTEL_SERVICE_NAME": "flask-k8s",
    "OTEL_RESOURCE_ATTRIBUTES": "juju_application=flask-k8s,juju_unit=flask-k8s%2F0",
    "FLASK_PEER_FQDNS": "flask-k8s-1.flask-k8s-endpoints.m.svc.cluster.local",
    "FLASK_SECRET_KEY": "key-of-unit-0",
}
IGNORED = ("FLASK_PEER_FQDNS", "FLASK_SECRET_KEY")


def _digest(env: dict[str, str], ignored: tuple[str, ...] = IGNORED) -> str:
    migration = migrations.plan({"migrate.sh"}, "/flask/app", "/bin/python3", env, ignored)
    assert migration is not None
    return migration.digest


def test_the_tracing_attributes_that_name_the_unit_are_not_an_input():
    other_unit = {
        **ENV,
        "OTEL_RESOURCE_ATTRIBUTES": "juju_application=flask-k8s,juju_unit=flask-k8s%2F1",
    }
    without = {name: value for name, value in ENV.items() if name != "OTEL_RESOURCE_ATTRIBUTES"}

    assert _digest(other_unit) == _digest(ENV) == _digest(without)
    # Whatever the charm passes as ignored.
    assert _digest(other_unit, ignored=()) == _digest(ENV, ignored=())


@pytest.mark.parametrize("name", IGNORED)
def test_an_ignored_variable_is_not_an_input(name):
    assert _digest({**ENV, name: "another value"}) == _digest(ENV)
    assert _digest({n: v for n, v in ENV.items() if n != name}) == _digest(ENV)


@pytest.mark.parametrize("name", IGNORED)
def test_a_variable_counts_unless_it_is_ignored(name):
    assert _digest({**ENV, name: "another value"}, ignored=()) != _digest(ENV, ignored=())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLASK_TOKEN", "v2"),
        ("FLASK_ENV", "staging"),
        ("OTEL_SERVICE_NAME", "other"),
        ("OTEL_RESOURCE_ATTRIBUTES_EXTRA", "x"),
        ("FLASK_PEER_FQDNS_EXTRA", "x"),
        ("DATABASE_URL", "postgresql://db/app"),
    ],
)
def test_any_other_variable_is_an_input(name, value):
    assert _digest({**ENV, name: value}) != _digest(ENV)


@PURE
@given(
    attributes=st.text(),
    peers=st.text(),
    key=st.text(),
    token=st.text(),
)
def test_only_the_other_variables_make_the_digest(attributes, peers, key, token):
    env = {
        **ENV,
        "OTEL_RESOURCE_ATTRIBUTES": attributes,
        "FLASK_PEER_FQDNS": peers,
        "FLASK_SECRET_KEY": key,
        "FLASK_TOKEN": token,
    }

    assert (_digest(env) == _digest(ENV)) is (token == ENV["FLASK_TOKEN"])
