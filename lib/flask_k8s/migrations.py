"""Database migrations: which script the rock ships, and when it has to run.

A script runs with the app's full environment, so its inputs are the command and that
environment (less variables no migration depends on, such as the peer list); a success is
recorded under their digest and the script runs again only when they change (or the container
is recreated, which also forgets the charm's Pebble layer).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import hashlib
import json

# When several exist, the last one wins, as in paas-charm.
SCRIPTS = ("migrate", "migrate.sh", "migrate.py")


@dataclasses.dataclass(frozen=True)
class Migration:
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
    inputs = {name: value for name, value in env.items() if name not in ignored}
    payload = json.dumps({"command": cmd, "environment": inputs}, sort_keys=True)
    return Migration(command=cmd, digest=hashlib.sha256(payload.encode()).hexdigest())


def failure_reason(stdout: str | None, stderr: str | None, exit_code: int | None) -> str:
    """The last line of the error output, which is where scripts say what went wrong."""
    for output in (stderr, stdout):
        lines = [line.strip() for line in (output or "").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return f"exit code {exit_code}"
