"""Database migrations: which script the rock ships, when it has to run, and who runs it.

A script runs with the app's full environment, so its inputs are the command and that
environment, less what differs between units or does not concern a migration (the peer list,
the secret key, the unit in the tracing attributes). Inputs are named by their digest.

On many units only the leader runs it: it records each run in the peer relation (``Record``),
and every unit applies settings whose digest the record names as done, without running the
migration itself. A failed run is retried no sooner than ``backoff`` after it, unless its
inputs change. Each container also keeps the digest it last applied, so a unit that already
serves these inputs does nothing.
"""

from __future__ import annotations

import collections.abc
import hashlib
import json
import math
import typing

from . import _record, _status

# When several exist, the last one wins, as in paas-charm.
SCRIPTS = ("migrate", "migrate.sh", "migrate.py")
# The peer relation's application field with the leader's last run.
RECORD_FIELD = "migration"
# Variables that differ between units, whatever the migration: not inputs.
UNIT_VARIABLES = ("OTEL_RESOURCE_ATTRIBUTES",)
# A failed run is retried after 1 minute, then 2, 4... at most every 30 minutes.
BACKOFF_START = 60.0
BACKOFF_LIMIT = 1800.0
# How much of a failure's reason the record keeps.
_REASON_LENGTH = 200


class Record(_record.Record):
    """The leader's last run of the migration, which every unit reads in the peer relation."""

    digest: str
    ok: bool
    reason: str = ""
    # When it ended (seconds since the epoch), and how many runs in a row failed.
    at: float = 0.0
    attempts: int = 0

    def to_json(self) -> str:
        """The peer relation field's value."""
        return json.dumps(_record.as_dict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Record | None:
        """The record in the field; None if there is none or it is not one."""
        try:
            data = json.loads(text or "")
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        # A JSON object: its keys are strings, its values anything, each checked here.
        data = typing.cast("dict[str, object]", data)
        digest, ok = data.get("digest"), data.get("ok")
        reason, at, attempts = data.get("reason", ""), data.get("at", 0.0), data.get("attempts", 0)
        if not isinstance(digest, str) or not isinstance(ok, bool) or not isinstance(reason, str):
            return None
        if not isinstance(at, int | float) or isinstance(at, bool):
            return None
        try:
            at = float(at)
        except OverflowError:
            return None
        if not math.isfinite(at):
            return None
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
            return None
        return cls(digest, ok, reason[:_REASON_LENGTH], float(at), min(attempts, 1000))

    def failed_again(self, digest: str, reason: str, now: float) -> Record:
        """The record of a new failed run with ``digest`` (attempts count for the same inputs)."""
        attempts = self.attempts + 1 if self.digest == digest and not self.ok else 1
        return Record(digest, False, reason[:_REASON_LENGTH], now, attempts)


def backoff(attempts: int) -> float:
    """Seconds after the last of ``attempts`` failed runs before the leader tries again."""
    return min(BACKOFF_LIMIT, BACKOFF_START * 2 ** min(max(0, attempts - 1), 20))


def gate(digest: str, record: Record | None, *, is_leader: bool, now: float) -> bool:
    """Whether this unit runs the migration for ``digest`` now (False: the leader has).

    Raises the status that holds new settings back: Waiting on a unit that is not the
    leader until the leader's run for these inputs succeeded; Blocked on the leader while a
    failed run's backoff lasts.
    """
    if record is not None and record.digest == digest:
        if record.ok:
            return False
        if not is_leader:
            reason = record.reason
            raise _status.Waiting(f"waiting for the leader's migration, which failed: {reason}")
        if now < record.at + backoff(record.attempts):
            raise _status.Blocked(f"migration failed: {record.reason}")
        return True
    if not is_leader:
        raise _status.Waiting("waiting for the leader's migration")
    return True


class Migration(_record.Record):
    """A migration to run before the app sees new settings."""

    command: tuple[str, ...]
    digest: str


def find_script(app_files: collections.abc.Collection[str]) -> str | None:
    """The migration script among the names in the app directory, if any."""
    found = [name for name in SCRIPTS if name in app_files]
    return found[-1] if found else None


def command(script: str, app_dir: str, python: str) -> tuple[str, ...]:
    """How to run the script, from the app directory."""
    if script == "migrate.sh":
        return ("bash", "-eo", "pipefail", "migrate.sh")
    if script == "migrate.py":
        return (python, "migrate.py")
    return (f"{app_dir}/{script}",)


def plan(
    app_files: collections.abc.Collection[str],
    app_dir: str,
    python: str,
    env: collections.abc.Mapping[str, str],
    ignored: collections.abc.Collection[str] = (),
) -> Migration | None:
    """The migration these settings need, or None if the rock has no script.

    Variables in ``ignored`` do not count as inputs: the charm passes the peer list and the
    secret key, so scaling out or rotating the key does not rerun migrations on every unit.
    """
    script = find_script(app_files)
    if script is None:
        return None
    cmd = command(script, app_dir, python)
    skipped = {*ignored, *UNIT_VARIABLES}
    inputs = {name: value for name, value in env.items() if name not in skipped}
    payload = json.dumps({"command": cmd, "environment": inputs}, sort_keys=True)
    return Migration(command=cmd, digest=hashlib.sha256(payload.encode()).hexdigest())


def failure_reason(stdout: str | None, stderr: str | None, exit_code: int | None) -> str:
    """The last line of the error output, which is where scripts say what went wrong."""
    for output in (stderr, stdout):
        lines = [line.strip() for line in (output or "").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return f"exit code {exit_code}"
