"""A model of the rabbitmq interface's two providers (relation-interfaces.md §9).

Both create the requested user on the requested vhost once ``username`` and ``vhost`` are
in the requirer's app bag. rabbitmq-k8s answers in its app bag (``hostname`` is its
Kubernetes service); the rabbitmq-server machine charm answers in each unit's bag and
leaves its app bag empty.
"""

from __future__ import annotations

import collections.abc

K8S_HOST = "rabbitmq-k8s.test-model.svc.cluster.local"
PASSWORD = "rmq pw@:/?#%"


def answer(
    request: collections.abc.Mapping[str, str],
    *,
    style: str = "k8s",
    units: int = 2,
    password: str = PASSWORD,
) -> tuple[dict[str, str], dict[int, dict[str, str]], dict[str, dict[str, str]]]:
    """The provider's app bag, unit bags (by unit number) and secrets (none)."""
    addresses = {number: f"10.2.0.{10 + number}" for number in range(units)}
    if not request.get("username") or not request.get("vhost"):
        return {}, {number: {"ingress-address": ip} for number, ip in addresses.items()}, {}
    if style == "k8s":
        unit_bags = {number: {"ingress-address": ip} for number, ip in addresses.items()}
        return {"hostname": K8S_HOST, "password": password}, unit_bags, {}
    unit_bags = {
        number: {"hostname": ip, "password": password, "ingress-address": ip}
        for number, ip in addresses.items()
    }
    return {}, unit_bags, {}
