"""openfga: an authorization store on openfga-k8s (the openfga v1 protocol).

The requirer asks for a store named after the application (``store_name``); the provider
answers in its application databag with ``store_id``, the API addresses (``grpc_api_url``,
``http_api_url``) and a token, in the secret named by ``token_secret_id`` under the key
``token`` (or in plain ``token`` without secrets).

Variables are paas-charm's: ``FGA_STORE_ID``, ``FGA_TOKEN``, ``FGA_GRPC_API_URL`` and
``FGA_HTTP_API_URL``, each when the provider sent it.
"""

from __future__ import annotations

from . import common


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """Ask for a store named after the application."""
    return {"store_name": context.app_name}


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``FGA_*`` from the provider's answer; NotReady until the store exists."""
    bag = data.app
    store_id = common.text_field(bag, "store_id")
    if store_id is None:
        raise common.NotReady("waiting for the provider to create the store")
    variables = {
        "FGA_STORE_ID": store_id,
        "FGA_TOKEN": common.secret_or_plain(bag, "token_secret_id", "token", read_secret),
        "FGA_GRPC_API_URL": common.text_field(bag, "grpc_api_url"),
        "FGA_HTTP_API_URL": common.text_field(bag, "http_api_url"),
    }
    return {name: value for name, value in variables.items() if value}
