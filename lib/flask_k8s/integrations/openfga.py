"""openfga: an authorization store on openfga-k8s (the openfga v1 protocol).

The requirer asks for a store named after the application (``store_name``); the provider
answers in its application databag with ``store_id``, the API addresses (``grpc_api_url``,
``http_api_url``) and a token, in the secret named by ``token_secret_id`` under the key
``token`` (or in plain ``token`` without secrets).

Variables are paas-charm's: ``FGA_STORE_ID``, ``FGA_TOKEN``, ``FGA_GRPC_API_URL`` and
``FGA_HTTP_API_URL``, each when the provider sent it.
"""

from __future__ import annotations

from . import relation


def request(context: relation.Context, local_app: relation.Bag) -> dict[str, str]:
    """Ask for a store named after the application."""
    return {"store_name": context.app_name}


def token(bag: relation.Bag, read_secret: relation.SecretReader, endpoint: str) -> str | None:
    """The token from the ``token_secret_id`` secret, else from plain ``token``."""
    if bag.get("token_secret_id"):
        content = relation.read_secret_field(bag, "token_secret_id", read_secret, endpoint)
        if "token" not in content:
            raise relation.InvalidData("the secret in token_secret_id has no 'token' key")
        return content["token"]
    value = bag.get("token")
    if value is not None and not isinstance(value, str):
        raise relation.InvalidData("token is not text")
    return value


def environment(
    context: relation.Context, data: relation.RemoteData, read_secret: relation.SecretReader
) -> dict[str, str]:
    """``FGA_*`` from the provider's answer; NotReady until the store exists."""
    bag = data.app
    store_id = relation.text_field(bag, "store_id")
    if store_id is None:
        raise relation.NotReady("waiting for the provider to create the store")
    variables = {
        "FGA_STORE_ID": store_id,
        "FGA_TOKEN": token(bag, read_secret, context.endpoint),
        "FGA_GRPC_API_URL": relation.text_field(bag, "grpc_api_url"),
        "FGA_HTTP_API_URL": relation.text_field(bag, "http_api_url"),
    }
    return {name: value for name, value in variables.items() if value}
