"""The Juju side of observability: Prometheus scrapes the units, Grafana shows the dashboards.

The scrape jobs are the statsd exporter's and those of paas-config.yaml, whose
``@scheduler:PORT`` targets resolve to the leader: it runs the schedulers and writes the jobs.
The bags are computed by the pure modules of ``flask_k8s._cos``, imported only when a
``metrics-endpoint`` or ``grafana-dashboard`` relation exists, so charms without them pay
nothing. Keys are written only where they differ, so an unchanged bag fires no
``relation-changed`` on the other side.
"""

from __future__ import annotations

import collections.abc
import logging
import typing
import uuid

import ops

from . import _paas_config, _spec, _state, _status

if typing.TYPE_CHECKING:
    from ._cos import topology

logger = logging.getLogger(__name__)

METRICS = "metrics-endpoint"
DASHBOARDS = "grafana-dashboard"


def endpoints(charm: ops.CharmBase) -> list[str]:
    """The observability endpoints the charm's metadata declares."""
    return [name for name in (METRICS, DASHBOARDS) if name in charm.meta.relations]


def publish(
    charm: ops.CharmBase,
    workload_spec: _spec.WorkloadSpec,
    paas: _paas_config.PaasConfig | _status.Blocked,
) -> None:
    """Write the scrape jobs, alert rules and dashboards into every observability relation.

    ``paas`` is the charm's paas-config.yaml, or why it cannot be used.
    """
    related = {name: charm.model.relations[name] for name in endpoints(charm)}
    if not any(related.values()):
        return
    from ._cos import topology  # noqa: PLC0415 (only with an observability relation)

    topo = topology.Topology(
        model=charm.model.name,
        model_uuid=charm.model.uuid,
        application=charm.app.name,
        unit=charm.unit.name,
        charm_name=charm.meta.name,
    )
    if related.get(METRICS):
        _publish_metrics(charm, related[METRICS], topo, workload_spec, paas)
    if related.get(DASHBOARDS) and charm.unit.is_leader():
        _publish_dashboards(charm, related[DASHBOARDS], topo)


def _publish_metrics(
    charm: ops.CharmBase,
    relations: list[ops.Relation],
    topo: topology.Topology,
    workload_spec: _spec.WorkloadSpec,
    paas: _paas_config.PaasConfig | _status.Blocked,
) -> None:
    from ._cos import assets, metrics, rules  # noqa: PLC0415

    fqdn = _state.unit_fqdn(charm.unit.name, charm.model.name)
    app_bag: dict[str, str] | None = None
    if charm.unit.is_leader():
        files, problems = assets.load(assets.PROMETHEUS_RULES, charm.charm_dir)
        alert_rules, invalid = rules.alert_rules(files, topo)
        _warn([*problems, *invalid])
        # The schedulers run on the leader, and the leader writes this bag: @scheduler is us.
        app_bag = metrics.app_bag(
            topo, workload_spec.exporter_port, alert_rules, _extra_jobs(paas), scheduler_host=fqdn
        )
    for rel in relations:
        if app_bag is not None:
            _update(rel.data[charm.app], app_bag)
        address = metrics.unit_address(_binding_address(charm, rel), fqdn)
        _update(rel.data[charm.unit], metrics.unit_bag(charm.unit.name, address, fqdn))


def _publish_dashboards(
    charm: ops.CharmBase, relations: list[ops.Relation], topo: topology.Topology
) -> None:
    from ._cos import assets, dashboards  # noqa: PLC0415

    files, problems = assets.load(assets.DASHBOARDS, charm.charm_dir)
    wanted, invalid = dashboards.templates(files, topo)
    _warn([*problems, *invalid])
    for rel in relations:
        bag = rel.data[charm.app]
        _update(bag, dashboards.app_bag(wanted, bag.get("dashboards"), lambda: str(uuid.uuid4())))


def _extra_jobs(
    paas: _paas_config.PaasConfig | _status.Blocked,
) -> tuple[_paas_config.ScrapeConfig, ...]:
    """paas-config.yaml's scrape jobs; none when the file is invalid.

    The default job is still published then; the reconcile shows the Blocked status.
    """
    if isinstance(paas, _status.Blocked):
        _warn([f"{paas.message}; only the default scrape job is published"])
        return ()
    return paas.scrape_configs


def _binding_address(charm: ops.CharmBase, rel: ops.Relation) -> str | None:
    try:
        binding = charm.model.get_binding(rel)
        address = binding.network.ingress_address
    except ops.ModelError:
        logger.info("no network binding for %s yet", rel.name)
        return None
    return None if address is None else str(address)


def _update(bag: ops.RelationDataContent, wanted: collections.abc.Mapping[str, str]) -> None:
    for key, value in wanted.items():
        if bag.get(key) != value:
            bag[key] = value


def _warn(problems: list[str]) -> None:
    for problem in problems:
        logger.warning("observability: %s", problem)
