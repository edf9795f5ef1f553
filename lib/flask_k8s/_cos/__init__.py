"""Observability assets: what Prometheus and Grafana get from the charm, computed purely.

- ``topology``: the Juju topology that labels every metric, rule and dashboard.
- ``assets``: the shipped rule and dashboard files and the charm author's ``cos_custom/``.
- ``promql``: topology matchers injected into PromQL selectors.
- ``rules``: alert rule files parsed, labelled and scoped to the application.
- ``metrics``: the ``prometheus_scrape`` provider's databags.
- ``dashboards``: the ``grafana_dashboard`` provider's databag.

Nothing here imports ops; ``flask_k8s._juju_observability`` is the shell that writes the bags, and
imports these modules only when a relation needs them.
"""
