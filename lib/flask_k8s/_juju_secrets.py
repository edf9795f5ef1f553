"""Juju secrets: secret-typed options, and the Flask secret key the charm generates.

The generated key lives in a Juju secret owned by the application. The leader writes the
secret's ID into the ``secret-storage`` peer relation, so every unit can find it, and bumps a
revision counter there on rotation, so every unit gets relation-changed and picks up the new
content. No secret value is ever written to a databag, a log or a status.

A rotation keeps the previous keys in the same secret, each until the sessions it signed have
expired (the app's permanent session lifetime), at most ``MAX_FALLBACKS`` of them: Flask
(3.1 and later) accepts sessions signed with ``SECRET_KEY_FALLBACKS``, so nobody is logged out.
"""

from __future__ import annotations

import collections.abc
import json
import math
import secrets
import typing

import ops

from . import _config, _record, _status

SECRET_KEY_LABEL = "flask-secret-key"  # noqa: S105 (a label, not a secret)
ID_FIELD = "secret-key-id"
REVISION_FIELD = "secret-key-revision"
# paas-charm kept the key in plain text in the peer databag under this field; it is adopted
# once, so that users stay logged in across the move to flask-k8s, then removed.
LEGACY_FIELD = "flask_secret_key"
# The application's record of the key in use and the ones before it, whatever set them.
HISTORY_LABEL = "flask-secret-key-history"
HISTORY_ID_FIELD = "secret-key-history-id"
# The secret's field with the previous keys: a JSON list of {"value", "expires"}.
FALLBACKS_FIELD = "fallbacks"
MAX_FALLBACKS = _config.MAX_FALLBACKS
DEFAULT_SESSION_LIFETIME = _config.DEFAULT_SESSION_LIFETIME


class Fallback(_record.Record):
    """A previous key, accepted for sessions until ``expires`` (seconds since the epoch)."""

    value: str
    expires: float


def fallbacks(content: dict[str, str]) -> tuple[Fallback, ...]:
    """The previous keys in the secret's content; garbage gives none, never an error."""
    try:
        items: object = json.loads(content.get(FALLBACKS_FIELD) or "[]")
    except ValueError:
        return ()
    found: list[Fallback] = []
    listed = typing.cast("list[object]", items) if isinstance(items, list) else []
    for item in listed:
        entry = typing.cast("dict[str, object]", item) if isinstance(item, dict) else {}
        value, expires = entry.get("value"), entry.get("expires")
        if not isinstance(value, str) or not value:
            continue
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            continue
        if math.isfinite(expires):
            found.append(Fallback(value, float(expires)))
    # Bounded, whatever the secret holds: only live ones count, MAX_FALLBACKS of them.
    return tuple(found[: 4 * MAX_FALLBACKS])


def live(keys: tuple[Fallback, ...], now: float) -> tuple[str, ...]:
    """The previous keys still accepted at ``now``, newest first, at most ``MAX_FALLBACKS``."""
    return tuple(key.value for key in keys if key.expires > now)[:MAX_FALLBACKS]


def new_key() -> str:
    """A fresh key: 64 random bytes, url-safe (86 characters)."""
    return secrets.token_urlsafe(64)


def read_option_secret(model: ops.Model, option: str, secret_id: str) -> dict[str, str]:
    """The content of the secret an option points at, or Blocked saying what to do."""
    try:
        return model.get_secret(id=secret_id).get_content(refresh=True)
    except ops.SecretNotFoundError:
        raise _status.Blocked(
            f"invalid config: secret of {option} not found; check the ID, and run "
            f"`juju grant-secret <secret> {model.app.name}`"
        ) from None
    except ops.ModelError:
        raise _status.Blocked(
            f"invalid config: secret of {option} is not granted; run "
            f"`juju grant-secret <secret> {model.app.name}`"
        ) from None


def shared_secret_key(model: ops.Model, relation: ops.Relation | None) -> str | None:
    """The application's generated key; the leader creates it if there is none yet.

    None while there is no peer relation, or on a non-leader until the leader has created it.
    Once the peer databag names a readable secret, this writes nothing.
    """
    shared = shared_secret(model, relation)
    return None if shared is None else shared[0]


def shared_secret(
    model: ops.Model, relation: ops.Relation | None
) -> tuple[str, tuple[Fallback, ...]] | None:
    """The generated key and the previous ones (see ``shared_secret_key``)."""
    if relation is None:
        return None
    data = relation.data[model.app]
    secret_id = data.get(ID_FIELD)
    if secret_id:
        try:
            content = model.get_secret(id=secret_id).get_content(refresh=True)
        except (ops.SecretNotFoundError, ops.ModelError):
            content = {}  # Gone or unreadable: the leader makes a new one below.
        value = content.get("value")
        if value:
            if LEGACY_FIELD in data and model.unit.is_leader():
                del data[LEGACY_FIELD]
            return value, fallbacks(content)
    if not model.unit.is_leader():
        # Until the leader moves paas-charm's plain-text key into a secret, it is the key:
        # the unit keeps serving with the key its users' sessions were signed with.
        legacy = _legacy_key(data)
        return (legacy, ()) if legacy else None
    try:
        secret = model.get_secret(label=SECRET_KEY_LABEL)
        content = secret.get_content(refresh=True)
        value = content["value"]
    except (ops.SecretNotFoundError, ops.ModelError, KeyError):
        content = {}
        value = _legacy_key(data) or new_key()
        secret = model.app.add_secret({"value": value}, label=SECRET_KEY_LABEL)
    data[ID_FIELD] = secret.id or secret.get_info().id
    data.pop(LEGACY_FIELD, None)
    return value, fallbacks(content)


def _legacy_key(data: collections.abc.Mapping[str, str]) -> str | None:
    """paas-charm's plain-text key, unless it is blank (no key: a new one is made)."""
    legacy = data.get(LEGACY_FIELD)
    return legacy if legacy and legacy.strip() else None


def key_history(
    model: ops.Model,
    relation: ops.Relation | None,
    key: str,
    *,
    now: float,
    session_lifetime: float = DEFAULT_SESSION_LIFETIME,
) -> tuple[str, ...]:
    """The previous keys still live, whatever set them (flask-secret-key, -id, rotation).

    The leader keeps the key in use in a secret of the application; when the key changes, the
    one it replaces stays there as a fallback for ``session_lifetime``. A unit that sees the
    new key before the leader has recorded it counts the recorded one as a fallback already.
    """
    if relation is None:
        return ()
    data = relation.data[model.app]
    secret: ops.Secret | None = None
    content: dict[str, str] = {}
    secret_id = data.get(HISTORY_ID_FIELD)
    # By its ID in the databag; a leader also finds its own by label (the ID may be lost).
    lookups = [{"id": secret_id}] if secret_id else []
    if model.unit.is_leader():
        lookups.append({"label": HISTORY_LABEL})
    for lookup in lookups:
        try:
            secret = model.get_secret(**lookup)
            content = secret.get_content(refresh=True)
            break
        except (ops.SecretNotFoundError, ops.ModelError):
            secret, content = None, {}
    recorded = content.get("current") or None
    previous = [fallback for fallback in fallbacks(content) if fallback.expires > now]
    if recorded != key and model.unit.is_leader():
        kept = [Fallback(recorded, now + session_lifetime)] if recorded else []
        listed = [{"value": k.value, "expires": k.expires} for k in (kept + previous)]
        new = {"current": key, FALLBACKS_FIELD: json.dumps(listed[:MAX_FALLBACKS])}
        if secret is None:
            secret = model.app.add_secret(new, label=HISTORY_LABEL)
        else:
            secret.set_content(new)
        data[HISTORY_ID_FIELD] = secret.id or secret.get_info().id
    keys = ([recorded] if recorded else []) + [fallback.value for fallback in previous]
    return tuple(dict.fromkeys(value for value in keys if value != key))[:MAX_FALLBACKS]


def rotate_secret_key(
    model: ops.Model,
    relation: ops.Relation,
    *,
    now: float,
    session_lifetime: float = DEFAULT_SESSION_LIFETIME,
) -> None:
    """Replace the key (leader only) and tell the other units through the peer relation.

    The key it replaces stays as a fallback for ``session_lifetime`` seconds, with the
    previous ones still live, at most ``MAX_FALLBACKS``.
    """
    current = shared_secret(model, relation)
    data = relation.data[model.app]
    kept: list[Fallback] = []
    if current is not None:
        old, previous = current
        kept = [Fallback(old, now + session_lifetime)]
        kept += [key for key in previous if key.expires > now]
    listed = [{"value": key.value, "expires": key.expires} for key in kept[:MAX_FALLBACKS]]
    content = {"value": new_key(), FALLBACKS_FIELD: json.dumps(listed)}
    model.get_secret(id=data[ID_FIELD]).set_content(content)
    data[REVISION_FIELD] = str(_revision(data.get(REVISION_FIELD)) + 1)


def _revision(text: str | None) -> int:
    """The rotation counter in the peer databag; 0 if it is absent or not a small number.

    Its value only has to change for the other units to see relation-changed, so a counter
    that something else garbled restarts from 0 rather than failing the rotation.
    """
    if text and len(text) < 10 and text.isascii() and text.isdigit():
        return int(text)
    return 0
