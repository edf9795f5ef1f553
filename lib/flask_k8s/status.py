"""Statuses a reconcile can end in, raised as exceptions so any step can stop it."""

from __future__ import annotations

import ops


class StatusError(Exception):
    """Stops a reconcile; the unit shows ``status`` and nothing more is applied.

    Messages are written by flask-k8s and never hold a secret value.
    """

    status_type: type[ops.StatusBase] = ops.BlockedStatus

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def status(self) -> ops.StatusBase:
        """The status to show."""
        return self.status_type(self.message)


class Blocked(StatusError):
    """Something the user must fix: a config value, a secret, the rock."""

    status_type = ops.BlockedStatus


class Waiting(StatusError):
    """Something that resolves itself: Pebble starting, the leader generating a key."""

    status_type = ops.WaitingStatus


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every secret value in ``text``, so program output can go in a status."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= 4 and value.lower() not in _PLAIN_WORDS and not value.isdigit():
            text = text.replace(value, "***")
    return text


# Values that secrets hold besides credentials (secret-tls has "true"): hiding every such word
# would garble messages and protect nothing.
_PLAIN_WORDS = frozenset({"true", "false", "none", "null"})


class Missing(Blocked):
    """A required option (later: integration) has no value: the app must not run without it.

    Unlike other Blocked statuses, which keep the last good settings serving, this one stops
    the app's services; the exporter keeps running.
    """
