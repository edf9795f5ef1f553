"""ingress (v2): the app's external URL, from Traefik or another ingress provider.

The requirer publishes, JSON-encoded, the application's model, name and port and asks the
provider to strip the path prefix (application databag, leader), and each unit publishes its
host and IP (unit databag). The provider answers ``ingress = {"url": ...}``, which becomes
``FLASK_BASE_URL``; when the relation goes, the app is back on its URL inside the model.

gunicorn trusts ``X-Forwarded-*`` headers only from the addresses in ``FORWARDED_ALLOW_IPS``:
the ingress units' addresses (Juju's ``ingress-address`` in their unit databags), so the app
builds its external URLs with the scheme the client used, and no other pod can fake it.
"""

from __future__ import annotations

import ipaddress
import json

from . import common


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """The application's address, every value JSON-encoded as ingress v2 wants."""
    return {
        "model": json.dumps(context.model_name),
        "name": json.dumps(context.app_name),
        "port": json.dumps(context.port),
        "strip-prefix": "true",
        "redirect-https": "false",
        "scheme": json.dumps("http"),
    }


def unit_request(context: common.Context) -> dict[str, str]:
    """This unit's host and, when Juju knows it, its IP."""
    bag = {"host": json.dumps(context.unit_host)}
    if context.unit_ip:
        bag["ip"] = json.dumps(context.unit_ip)
    return bag


def url(data: common.RemoteData) -> str:
    """The URL the provider gives the application."""
    answer = common.json_field(data.app, "ingress", dict)
    if answer is None:
        raise common.NotReady("waiting for the provider to publish the URL")
    value = answer.get("url")
    if not isinstance(value, str):
        raise common.InvalidData("ingress has no url")
    if not common.is_http_url(value):
        raise common.InvalidData("ingress url is not an http(s) URL")
    return value


def trusted_addresses(data: common.RemoteData) -> list[str]:
    """The ingress units' IP addresses, from the addresses Juju puts in their databags."""
    addresses: set[str] = set()
    for bag in data.units.values():
        for field in ("ingress-address", "private-address"):
            value = bag.get(field)
            if not isinstance(value, str):
                continue
            try:
                addresses.add(str(ipaddress.ip_address(value.strip())))
            except ValueError:
                continue
    return sorted(addresses)


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """FLASK_BASE_URL from the provider, and the addresses gunicorn may trust."""
    env = {context.env_prefix + "BASE_URL": url(data)}
    trusted = trusted_addresses(data)
    if trusted:
        env["FORWARDED_ALLOW_IPS"] = ",".join(trusted)
    return env
