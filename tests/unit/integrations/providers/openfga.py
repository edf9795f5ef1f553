"""A model of openfga-k8s's side of the openfga v1 protocol.

It creates a store for the ``store_name`` the requirer asks for and answers with its id, the
API addresses and a token, in a Juju secret (``token_secret_id``, key ``token``) or, without
secrets, in plain ``token``.
"""

from __future__ import annotations

import hashlib

from tests.unit.integrations.providers import common

Answer = common.Answer
secret_id = common.secret_id


class Rejected(Exception):
    """The requirer's databag is not a request this provider can serve."""


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def store_id(store_name: str) -> str:
    """A ULID-shaped store id (26 Crockford base32 characters), the same for the same name."""
    number = int.from_bytes(hashlib.sha256(store_name.encode()).digest()[:16], "big")
    return "".join(CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(26)))


def answer(
    requirer_app: dict[str, str], *, token: str = "fga-t0k:en/#", use_secrets: bool = True
) -> Answer:
    """The store created for the requirer's ``store_name``."""
    name = requirer_app.get("store_name", "")
    if not name.strip():
        raise Rejected("store_name is missing")
    app = {
        "store_id": store_id(name),
        "grpc_api_url": "openfga.test-model.svc.cluster.local:8081",
        "http_api_url": "http://openfga.test-model.svc.cluster.local:8080",
    }
    secrets: dict[str, dict[str, str]] = {}
    if use_secrets:
        uri = secret_id(f"openfga-token:{name}")
        secrets[uri] = {"token": token}
        app["token_secret_id"] = uri
    else:
        app["token"] = token
    return Answer(app=app, secrets=secrets)
