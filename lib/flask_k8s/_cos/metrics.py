"""The ``prometheus_scrape`` provider's databags: where to scrape and what to alert on.

Prometheus scrapes the statsd exporter of every unit (``*`` in a target stands for each
unit's address, which each unit publishes in its own bag), then the charm author's jobs from
paas-config.yaml. Their ``@scheduler:PORT`` targets name the unit that runs the schedulers:
the leader, which is also the unit that writes these jobs, so it gives its own address.
"""

from __future__ import annotations

import collections.abc
import ipaddress
import json
import typing

from .. import _paas_config
from . import topology

METRICS_PATH = "/metrics"


def scrape_jobs(
    port: int,
    extra: collections.abc.Iterable[_paas_config.ScrapeConfig] = (),
    scheduler_host: str = "",
) -> list[dict[str, typing.Any]]:
    """The statsd exporter on every unit (no job_name: Prometheus names it), then ``extra``.

    ``scheduler_host`` replaces ``@scheduler`` in the extra jobs' targets.
    """
    jobs = [{"metrics_path": METRICS_PATH, "static_configs": [{"targets": [f"*:{port}"]}]}]
    for job in extra:
        statics: list[dict[str, typing.Any]] = []
        for static in job.static_configs:
            entry: dict[str, typing.Any] = {
                "targets": [_resolve(target, scheduler_host) for target in static.targets]
            }
            if static.labels:  # As paas-charm: no "labels" key when there are none.
                entry["labels"] = dict(static.labels)
            statics.append(entry)
        jobs.append(
            {"job_name": job.job_name, "metrics_path": job.metrics_path, "static_configs": statics}
        )
    return jobs


def _resolve(target: str, scheduler_host: str) -> str:
    if target.startswith(_paas_config.SCHEDULER + ":"):
        return scheduler_host + target[len(_paas_config.SCHEDULER) :]
    return target


def app_bag(
    topo: topology.Topology,
    port: int,
    alert_rules: dict[str, typing.Any],
    extra_jobs: collections.abc.Iterable[_paas_config.ScrapeConfig] = (),
    scheduler_host: str = "",
) -> dict[str, str]:
    """What the leader writes in our application bag."""
    return {
        "scrape_jobs": json.dumps(scrape_jobs(port, extra_jobs, scheduler_host)),
        "scrape_metadata": json.dumps(topo.as_dict()),
        "alert_rules": json.dumps(alert_rules),
    }


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
