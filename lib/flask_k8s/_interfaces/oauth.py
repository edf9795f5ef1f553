"""oauth: an OpenID Connect client registered with an identity provider (hydra, oauth v0).

The requirer describes its client in its application databag: ``redirect_uri`` (the app's
URL plus the option ``<endpoint>-redirect-path``), ``scope`` (the option ``<endpoint>-scopes``,
space-separated), ``grant_types`` and ``audience`` (JSON lists) and
``token_endpoint_auth_method``. The provider registers the client and answers with its
endpoints, ``client_id`` and the secret named by ``client_secret_id`` (key ``secret``).

Scopes without the word ``openid`` are not sent (an OIDC login needs it): the relation is
Blocked, naming the option to fix, and the client stays as it was last registered. Neither is
a client without an ingress: the redirect URI must be a URL the user's browser reaches, so
the relation is Blocked until an ingress gives the app its external URL.

Variables are paas-charm's, ``FLASK_<ENDPOINT>_CLIENT_ID`` and so on, except that dashes in
the endpoint name become underscores (``my-oidc`` gives ``FLASK_MY_OIDC_CLIENT_ID``).
"""

from __future__ import annotations

import json

from . import common

DEFAULT_REDIRECT_PATH = "/callback"
DEFAULT_SCOPES = "openid profile email"
GRANT_TYPES = ["authorization_code"]
CLIENT_AUTH_METHOD = "client_secret_basic"
# Provider field -> variable suffix; the first three are needed to log anyone in.
REQUIRED_URLS = {
    "issuer_url": "API_BASE_URL",
    "authorization_endpoint": "AUTHORIZE_URL",
    "token_endpoint": "ACCESS_TOKEN_URL",
}
OPTIONAL_URLS = {"userinfo_endpoint": "USER_URL", "jwks_endpoint": "JWKS_URL"}


def option(context: common.Context, suffix: str, default: str) -> str:
    """The endpoint's option ``<endpoint>-<suffix>``, or its default when the charm has none."""
    value = context.config.get(f"{context.endpoint}-{suffix}")
    return default if value is None else str(value)


def scopes(context: common.Context) -> list[str]:
    """The scopes asked for, as words."""
    return option(context, "scopes", DEFAULT_SCOPES).split()


def redirect_uri(context: common.Context) -> str:
    """Where the provider sends the user back: the app's URL plus the redirect path."""
    path = option(context, "redirect-path", DEFAULT_REDIRECT_PATH).strip()
    return context.base_url.rstrip("/") + "/" + path.lstrip("/")


def prefix(context: common.Context) -> str:
    """``FLASK_OIDC`` for the endpoint ``oidc``, ``FLASK_MY_OIDC`` for ``my-oidc``."""
    return context.env_prefix + context.endpoint.upper().replace("-", "_")


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """The client to register; nothing while the scopes lack openid or there is no ingress."""
    words = scopes(context)
    if "openid" not in words or context.external_url is None:
        return {}
    return {
        "redirect_uri": redirect_uri(context),
        "scope": " ".join(words),
        "grant_types": json.dumps(GRANT_TYPES),
        "audience": json.dumps([]),
        "token_endpoint_auth_method": CLIENT_AUTH_METHOD,
    }


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``FLASK_<ENDPOINT>_*``; NotReady until the provider has registered the client."""
    words = scopes(context)
    if "openid" not in words:
        raise common.InvalidData(
            f"the scopes must include openid; add it to {context.endpoint}-scopes"
        )
    if context.external_url is None:
        raise common.InvalidData(
            "the redirect URI needs the app's external URL: integrate an ingress"
        )
    bag = data.app
    client_id = common.text_field(bag, "client_id")
    if client_id is None or not bag.get("client_secret_id"):
        raise common.NotReady("waiting for the provider to register the client")
    content = common.read_secret_field(bag, "client_secret_id", read_secret)
    client_secret = content.get("secret")
    if not client_secret:
        raise common.InvalidData("the secret in client_secret_id has no 'secret' key")
    name = prefix(context)
    env = {
        f"{name}_CLIENT_ID": client_id,
        f"{name}_CLIENT_SECRET": client_secret,
        f"{name}_CLIENT_KWARGS": json.dumps({"scope": " ".join(words)}),
    }
    for field, suffix in REQUIRED_URLS.items():
        value = common.url_field(bag, field)
        if value is None:
            raise common.InvalidData(f"the provider sent no {field}")
        env[f"{name}_{suffix}"] = value
    for field, suffix in OPTIONAL_URLS.items():
        value = common.url_field(bag, field)
        if value is not None:
            env[f"{name}_{suffix}"] = value
    return env
