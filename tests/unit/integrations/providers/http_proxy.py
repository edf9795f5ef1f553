"""A model of http-proxy-configurator's side of the http_proxy protocol.

For every request in the requirer's ``requests`` it answers in ``responses``: requests with
no domains or auth get the configurator's own (as http-proxy-configurator does); once
``ready`` the response holds the proxy URLs and, for ``userpass``, a Juju secret ``user`` with
the ``username`` and ``password`` created for that requirer.
"""

from __future__ import annotations

import json

from tests.unit.integrations.providers import common

Answer = common.Answer
secret_id = common.secret_id

STATUSES = ("pending", "accepted", "rejected", "invalid", "unsupported", "error", "ready")
PROXY = "http://squid.internal:3128"


class Rejected(Exception):
    """The requirer's databag does not hold requests in the protocol's shape."""


def requests(requirer_app: dict[str, str]) -> list[dict]:
    """The requests, checked to have the fields every provider reads."""
    try:
        value = json.loads(requirer_app["requests"])
    except (KeyError, TypeError, ValueError):
        raise Rejected("requests is missing or not JSON") from None
    if not isinstance(value, list):
        raise Rejected("requests must be a JSON list")
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("requirer"), str):
            raise Rejected("each request needs a requirer id")
        if not isinstance(item.get("domains"), list) or not isinstance(item.get("auth"), list):
            raise Rejected("each request needs domains and auth lists")
    return value


def answer(
    requirer_app: dict[str, str],
    *,
    status: str = "ready",
    auth: str = "userpass",
    password: str = "pr0xy:p@ss/#%",
) -> Answer:
    """The responses to every request, each with ``status``."""
    assert status in STATUSES
    responses = []
    secrets: dict[str, dict[str, str]] = {}
    for item in requests(requirer_app):
        requirer = item["requirer"]
        response: dict[str, str] = {"requirer": requirer, "status": status}
        if status == "ready":
            response.update(auth=auth, http_proxy=PROXY, https_proxy=PROXY)
            if auth == "userpass":
                uri = secret_id(f"proxy-user:{requirer}")
                secrets[uri] = {"username": f"u-{requirer[:8]}", "password": password}
                response["user"] = uri
        responses.append(response)
    return Answer(app={"responses": json.dumps(responses, sort_keys=True)}, secrets=secrets)
