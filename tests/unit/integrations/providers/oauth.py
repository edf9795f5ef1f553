"""A model of hydra's side of the oauth v0 protocol.

It publishes its endpoints as soon as it is related (``provider_info``), then validates the
requirer's client request the way the provider does (the fields of the c-r-i requirer schema,
scopes a subset of its own that include openid) and registers the client: ``client_id`` in
the databag, the client secret in a Juju secret (``client_secret_id``, key ``secret``).
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse

from tests.unit.integrations.providers import common

Answer = common.Answer
secret_id = common.secret_id

ISSUER = "https://iam.example.com"
SCOPES = ("openid", "profile", "email", "phone", "offline_access")
GRANT_TYPES = (
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
)
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class Rejected(Exception):
    """The requirer's client request is invalid: the provider registers nothing."""


def provider_info() -> dict[str, str]:
    """The endpoints, written before any client is registered."""
    return {
        "issuer_url": ISSUER,
        "authorization_endpoint": f"{ISSUER}/oauth2/auth",
        "token_endpoint": f"{ISSUER}/oauth2/token",
        "introspection_endpoint": f"{ISSUER}/admin/oauth2/introspect",
        "userinfo_endpoint": f"{ISSUER}/userinfo",
        "jwks_endpoint": f"{ISSUER}/.well-known/jwks.json",
        "scope": " ".join(SCOPES),
    }


def _json_list(requirer_app: dict[str, str], field: str) -> list[str]:
    try:
        value = json.loads(requirer_app[field])
    except (KeyError, TypeError, ValueError):
        raise Rejected(f"{field} is missing or not JSON") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Rejected(f"{field} must be a JSON list of strings")
    return value


def validate(requirer_app: dict[str, str]) -> None:
    """Raise Rejected unless the request is a client this provider would register."""
    redirect_uri = requirer_app.get("redirect_uri", "")
    parsed = urllib.parse.urlsplit(redirect_uri)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise Rejected("redirect_uri must be an absolute http(s) URL")
    if parsed.fragment:
        raise Rejected("redirect_uri must not have a fragment")
    scopes = requirer_app.get("scope", "").split(" ")
    if "openid" not in scopes:
        raise Rejected("scope must include openid")
    if not set(scopes) <= set(SCOPES):
        raise Rejected("scope must be a space-separated subset of the provider's scopes")
    grant_types = _json_list(requirer_app, "grant_types")
    if not grant_types or not set(grant_types) <= set(GRANT_TYPES):
        raise Rejected("grant_types must be a non-empty list of supported grant types")
    _json_list(requirer_app, "audience")
    if requirer_app.get("token_endpoint_auth_method") not in AUTH_METHODS:
        raise Rejected("token_endpoint_auth_method is not supported")


def answer(requirer_app: dict[str, str], *, client_secret: str = "s3cr:et/#%") -> Answer:
    """The endpoints and, for a valid request, the registered client."""
    validate(requirer_app)
    client_id = hashlib.sha256(requirer_app["redirect_uri"].encode()).hexdigest()[:32]
    uri = secret_id(f"oauth-client:{client_id}")
    app = {**provider_info(), "client_id": client_id, "client_secret_id": uri}
    return Answer(app=app, secrets={uri: {"secret": client_secret}})
