"""The ``prometheus_scrape`` provider's databags: where to scrape and what to alert on.

Prometheus scrapes the statsd exporter of every unit (``*`` in a target stands for each
unit's address, which each unit publishes in its own bag).
"""

from __future__ import annotations

import ipaddress
import json
import typing

from . import topology

METRICS_PATH = "/metrics"


def scrape_jobs(port: int) -> list[dict[str, typing.Any]]:
    """One job: the statsd exporter on every unit."""
    return [{"metrics_path": METRICS_PATH, "static_configs": [{"targets": [f"*:{port}"]}]}]


def app_bag(
    topo: topology.Topology, port: int, alert_rules: dict[str, typing.Any]
) -> dict[str, str]:
    """What the leader writes in our application bag."""
    return {
        "scrape_jobs": json.dumps(scrape_jobs(port)),
        "scrape_metadata": json.dumps(topo.as_dict()),
        "alert_rules": json.dumps(alert_rules),
    }


def unit_fqdn(unit_name: str, model: str) -> str:
    """The unit's name in the cluster's DNS (its pod in the application's headless service)."""
    app, _, number = unit_name.rpartition("/")
    return f"{app}-{number}.{app}-endpoints.{model}.svc.cluster.local"


def unit_address(address: str | None, fqdn: str) -> str:
    """The address Prometheus reaches the unit at: its IP if it has one, else its FQDN."""
    if address:
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:
            pass
    return fqdn


def unit_bag(unit_name: str, address: str, fqdn: str) -> dict[str, str]:
    """What each unit writes in its own bag."""
    return {
        "prometheus_scrape_unit_address": address,
        "prometheus_scrape_unit_name": unit_name,
        "prometheus_scrape_unit_fqdn": fqdn,
    }
