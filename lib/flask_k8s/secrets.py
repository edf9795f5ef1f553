"""Juju secrets: secret-typed options, and the Flask secret key the charm generates.

The generated key lives in a Juju secret owned by the application. The leader writes the
secret's ID into the ``secret-storage`` peer relation, so every unit can find it, and bumps a
revision counter there on rotation, so every unit gets relation-changed and picks up the new
content. No secret value is ever written to a databag, a log or a status.
"""

from __future__ import annotations

import secrets

import ops

from . import status

SECRET_KEY_LABEL = "flask-secret-key"  # noqa: S105 (a label, not a secret)
ID_FIELD = "secret-key-id"
REVISION_FIELD = "secret-key-revision"
# paas-charm kept the key in plain text in the peer databag under this field; it is adopted
# once, so that users stay logged in across the move to flask-k8s, then removed.
LEGACY_FIELD = "flask_secret_key"


def new_key() -> str:
    """A fresh key: 64 random bytes, url-safe (86 characters)."""
    return secrets.token_urlsafe(64)


def read_option_secret(model: ops.Model, option: str, secret_id: str) -> dict[str, str]:
    """The content of the secret an option points at, or Blocked saying what to do."""
    try:
        return model.get_secret(id=secret_id).get_content(refresh=True)
    except ops.SecretNotFoundError:
        raise status.Blocked(
            f"invalid config: secret of {option} not found; check the ID, and run "
            f"`juju grant-secret <secret> {model.app.name}`"
        ) from None
    except ops.ModelError:
        raise status.Blocked(
            f"invalid config: secret of {option} is not granted; run "
            f"`juju grant-secret <secret> {model.app.name}`"
        ) from None


def shared_secret_key(model: ops.Model, relation: ops.Relation | None) -> str | None:
    """The application's generated key; the leader creates it if there is none yet.

    None while there is no peer relation, or on a non-leader until the leader has created it.
    Once the peer databag names a readable secret, this writes nothing.
    """
    if relation is None:
        return None
    data = relation.data[model.app]
    secret_id = data.get(ID_FIELD)
    if secret_id:
        try:
            value = model.get_secret(id=secret_id).get_content(refresh=True).get("value")
        except (ops.SecretNotFoundError, ops.ModelError):
            value = None  # Gone or unreadable: the leader makes a new one below.
        if value:
            if LEGACY_FIELD in data and model.unit.is_leader():
                del data[LEGACY_FIELD]
            return value
    if not model.unit.is_leader():
        # Until the leader moves paas-charm's plain-text key into a secret, it is the key:
        # the unit keeps serving with the key its users' sessions were signed with.
        return data.get(LEGACY_FIELD) or None
    try:
        secret = model.get_secret(label=SECRET_KEY_LABEL)
        value = secret.get_content(refresh=True)["value"]
    except (ops.SecretNotFoundError, ops.ModelError, KeyError):
        value = data.get(LEGACY_FIELD) or new_key()
        secret = model.app.add_secret({"value": value}, label=SECRET_KEY_LABEL)
    data[ID_FIELD] = secret.id or secret.get_info().id
    data.pop(LEGACY_FIELD, None)
    return value


def rotate_secret_key(model: ops.Model, relation: ops.Relation) -> None:
    """Replace the key (leader only) and tell the other units through the peer relation."""
    shared_secret_key(model, relation)
    data = relation.data[model.app]
    model.get_secret(id=data[ID_FIELD]).set_content({"value": new_key()})
    data[REVISION_FIELD] = str(_revision(data.get(REVISION_FIELD)) + 1)


def _revision(text: str | None) -> int:
    """The rotation counter in the peer databag; 0 if it is absent or not a small number.

    Its value only has to change for the other units to see relation-changed, so a counter
    that something else garbled restarts from 0 rather than failing the rotation.
    """
    if text and len(text) < 10 and text.isascii() and text.isdigit():
        return int(text)
    return 0
