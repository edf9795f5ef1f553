"""A model of redis-k8s on the legacy redis interface (relation-interfaces.md §6).

redis-k8s reads nothing from the requirer: every unit writes its pod IP and port, the
leader the master's Kubernetes hostname.
"""

from __future__ import annotations

import collections.abc

LEADER_HOST = "redis-k8s-0.redis-k8s-endpoints.test-model.svc.cluster.local"


def answer(
    request: collections.abc.Mapping[str, str], *, units: int = 2, port: str = "6379"
) -> tuple[dict[str, str], dict[int, dict[str, str]], dict[str, dict[str, str]]]:
    """The provider's app bag, unit bags (by unit number) and secrets (none)."""
    del request  # The legacy interface has no request.
    unit_bags = {
        number: {"hostname": f"10.1.0.{10 + number}", "port": port} for number in range(units)
    }
    return {"leader-host": LEADER_HOST}, unit_bags, {}
