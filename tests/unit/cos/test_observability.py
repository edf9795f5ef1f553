"""Prometheus and Grafana relations through the charm: who writes what, and when."""

from __future__ import annotations

import dataclasses
import json
import logging
import pathlib
import subprocess
import sys
import textwrap

import ops
import pytest
import yaml
from ops import testing

import charm
from flask_k8s._cos import dashboards
from tests.unit.conftest import CHARM_ROOT

FQDN = "flask-k8s-0.flask-k8s-endpoints.test-model.svc.cluster.local"


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys the charm writes into relation bags during the hook."""
    written: list[str] = []
    original = ops.RelationDataContent.__setitem__

    def spy(self, key, value):
        written.append(key)
        original(self, key, value)

    monkeypatch.setattr(ops.RelationDataContent, "__setitem__", spy)
    return written


def with_relations(state: testing.State, *relations: testing.RelationBase) -> testing.State:
    return dataclasses.replace(state, relations={*state.relations, *relations})


def test_the_leader_publishes_scrape_jobs_rules_and_its_address(ctx, state):
    metrics = testing.Relation("metrics-endpoint")

    out = ctx.run(ctx.on.relation_joined(metrics, remote_unit=0), with_relations(state, metrics))

    rel = out.get_relation(metrics.id)
    assert json.loads(rel.local_app_data["scrape_jobs"]) == [
        {"metrics_path": "/metrics", "static_configs": [{"targets": ["*:9102"]}]}
    ]
    metadata = json.loads(rel.local_app_data["scrape_metadata"])
    assert metadata["model"] == "test-model"
    assert metadata["application"] == "flask-k8s"
    assert metadata["unit"] == "flask-k8s/0"
    assert metadata["charm_name"] == "flask-k8s"
    alerts = [
        rule["alert"]
        for group in json.loads(rel.local_app_data["alert_rules"])["groups"]
        for rule in group["rules"]
    ]
    assert "FlaskTargetDown" in alerts
    # Scenario's default binding: the unit's IP.
    assert rel.local_unit_data["prometheus_scrape_unit_address"] == "192.0.2.0"
    assert rel.local_unit_data["prometheus_scrape_unit_name"] == "flask-k8s/0"
    assert rel.local_unit_data["prometheus_scrape_unit_fqdn"] == FQDN
    assert out.unit_status == testing.ActiveStatus()


def test_a_follower_publishes_only_its_own_address(ctx, state):
    metrics = testing.Relation("metrics-endpoint")
    follower = dataclasses.replace(with_relations(state, metrics), leader=False)

    out = ctx.run(ctx.on.relation_joined(metrics, remote_unit=0), follower)

    rel = out.get_relation(metrics.id)
    assert rel.local_app_data == {}
    assert rel.local_unit_data["prometheus_scrape_unit_name"] == "flask-k8s/0"


def test_a_unit_without_an_ip_binding_gives_its_fqdn(ctx, state):
    metrics = testing.Relation("metrics-endpoint")
    network = testing.Network("metrics-endpoint", ingress_addresses=["flask.example.com"])
    state = dataclasses.replace(with_relations(state, metrics), networks={network})

    out = ctx.run(ctx.on.relation_changed(metrics, remote_unit=0), state)

    unit_data = out.get_relation(metrics.id).local_unit_data
    assert unit_data["prometheus_scrape_unit_address"] == FQDN


def test_a_unit_whose_binding_cannot_be_read_gives_its_fqdn(ctx, state, monkeypatch):
    def no_binding(*_):
        raise ops.ModelError("network-get failed")

    monkeypatch.setattr(ops.Model, "get_binding", no_binding)
    metrics = testing.Relation("metrics-endpoint")

    out = ctx.run(ctx.on.relation_changed(metrics, remote_unit=0), with_relations(state, metrics))

    unit_data = out.get_relation(metrics.id).local_unit_data
    assert unit_data["prometheus_scrape_unit_address"] == FQDN


def test_every_metrics_relation_gets_the_bags(ctx, state):
    first, second = testing.Relation("metrics-endpoint"), testing.Relation("metrics-endpoint")

    out = ctx.run(ctx.on.config_changed(), with_relations(state, first, second))

    assert out.get_relation(first.id).local_app_data["scrape_jobs"]
    assert out.get_relation(second.id).local_app_data["scrape_jobs"]
    assert out.get_relation(second.id).local_unit_data["prometheus_scrape_unit_address"]


def test_the_leader_sends_the_flask_dashboard(ctx, state):
    grafana = testing.Relation("grafana-dashboard")

    out = ctx.run(ctx.on.relation_joined(grafana, remote_unit=0), with_relations(state, grafana))

    bag = json.loads(out.get_relation(grafana.id).local_app_data["dashboards"])
    template = bag["templates"]["file:flask"]
    assert template["juju_topology"]["unit"] == "flask-k8s/0"
    assert json.loads(dashboards.decompress(template["content"]))["title"] == "Flask"
    assert bag["uuid"]


def test_a_follower_sends_no_dashboard(ctx, state):
    grafana = testing.Relation("grafana-dashboard")
    follower = dataclasses.replace(with_relations(state, grafana), leader=False)

    out = ctx.run(ctx.on.relation_joined(grafana, remote_unit=0), follower)

    assert out.get_relation(grafana.id).local_app_data == {}


def test_nothing_is_rewritten_when_nothing_changed(make_ctx, state, writes):
    metrics, grafana = testing.Relation("metrics-endpoint"), testing.Relation("grafana-dashboard")
    ctx = make_ctx()
    first = ctx.run(ctx.on.config_changed(), with_relations(state, metrics, grafana))
    assert "dashboards" in writes
    assert "alert_rules" in writes
    writes.clear()

    second = ctx.run(ctx.on.update_status(), first)

    assert writes == []
    assert second.get_relation(grafana.id).local_app_data == (
        first.get_relation(grafana.id).local_app_data
    )


def test_a_changed_dashboard_gets_a_new_uuid(ctx, state):
    stale = json.dumps({"templates": {"file:flask": {"content": "old"}}, "uuid": "old-uuid"})
    grafana = testing.Relation("grafana-dashboard", local_app_data={"dashboards": stale})

    out = ctx.run(ctx.on.upgrade_charm(), with_relations(state, grafana))

    bag = json.loads(out.get_relation(grafana.id).local_app_data["dashboards"])
    assert bag["uuid"] != "old-uuid"
    assert bag["templates"]["file:flask"]["content"] != "old"


@pytest.fixture
def charm_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """A charm directory for Scenario, where the test puts cos_custom/ files."""
    root = tmp_path / "charm"
    root.mkdir()
    return root


def custom_file(charm_dir: pathlib.Path, kind: str, name: str, text: str) -> None:
    directory = charm_dir / "cos_custom" / kind
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)


def test_custom_rules_and_dashboards_are_merged_with_the_shipped_ones(state, charm_dir):
    custom_file(
        charm_dir,
        "prometheus_alert_rules",
        "orders.rules",
        "alert: NoOrders\nexpr: rate(orders_total[10m]) == 0\n",
    )
    custom_file(charm_dir, "grafana_dashboards", "flask.json", json.dumps({"title": "Orders"}))
    metrics, grafana = testing.Relation("metrics-endpoint"), testing.Relation("grafana-dashboard")
    ctx = testing.Context(charm.FlaskK8sCharm, charm_root=charm_dir)

    out = ctx.run(ctx.on.config_changed(), with_relations(state, metrics, grafana))

    groups = json.loads(out.get_relation(metrics.id).local_app_data["alert_rules"])["groups"]
    names = [group["name"].split("_flask-k8s_", 1)[1] for group in groups]
    assert names == ["flask_flask", "custom_orders_rules"]
    assert groups[1]["rules"][0]["expr"].startswith('rate(orders_total{juju_model="test-model"')
    templates = json.loads(out.get_relation(grafana.id).local_app_data["dashboards"])["templates"]
    assert list(templates) == ["file:flask", "file:custom_flask"]
    custom = json.loads(dashboards.decompress(templates["file:custom_flask"]["content"]))
    assert custom["title"] == "Orders"


def test_bad_custom_files_are_skipped_with_a_warning(state, charm_dir, caplog):
    custom_file(charm_dir, "prometheus_alert_rules", "broken.rules", "alert: [\n")
    custom_file(charm_dir, "grafana_dashboards", "broken.json", "{not json")
    metrics, grafana = testing.Relation("metrics-endpoint"), testing.Relation("grafana-dashboard")
    ctx = testing.Context(charm.FlaskK8sCharm, charm_root=charm_dir)

    with caplog.at_level(logging.WARNING, logger="flask_k8s._juju_observability"):
        out = ctx.run(ctx.on.config_changed(), with_relations(state, metrics, grafana))

    assert out.unit_status == testing.ActiveStatus()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        "observability: cos_custom/prometheus_alert_rules/broken.rules: not valid YAML (line 2);"
        " file skipped"
    ) in warnings
    assert any(
        w.startswith("observability: cos_custom/grafana_dashboards/broken.json: not valid JSON")
        for w in warnings
    )
    groups = json.loads(out.get_relation(metrics.id).local_app_data["alert_rules"])["groups"]
    assert len(groups) == 1
    templates = json.loads(out.get_relation(grafana.id).local_app_data["dashboards"])["templates"]
    assert list(templates) == ["file:flask"]


# The paas-config.yaml that gives, on paas-charm 1.12, the relation data of its scenario test
# (paas-charm-flask-inventory.md section 8.1, verified with scen/t6_obs.py).
PAAS_CONFIG = """\
prometheus:
  scrape_configs:
    - job_name: flask-custom-metrics
      static_configs:
        - targets: ["*:8081"]
          labels:
            app: flask
    - job_name: flask-scheduler-metrics
      static_configs:
        - targets: ["@scheduler:8082"]
"""


def test_paas_config_jobs_are_published_as_paas_charm_publishes_them(state, charm_dir):
    (charm_dir / "paas-config.yaml").write_text(PAAS_CONFIG)
    metrics = testing.Relation("metrics-endpoint")
    ctx = testing.Context(charm.FlaskK8sCharm, charm_root=charm_dir)

    out = ctx.run(ctx.on.relation_joined(metrics, remote_unit=0), with_relations(state, metrics))

    assert json.loads(out.get_relation(metrics.id).local_app_data["scrape_jobs"]) == [
        {"metrics_path": "/metrics", "static_configs": [{"targets": ["*:9102"]}]},
        {
            "job_name": "flask-custom-metrics",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": ["*:8081"], "labels": {"app": "flask"}}],
        },
        {
            "job_name": "flask-scheduler-metrics",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [f"{FQDN}:8082"]}],
        },
    ]


def test_scheduler_targets_name_the_leader_whichever_unit_it_is(state, charm_dir):
    # paas-charm names unit 0; here the schedulers run on the leader, which writes the jobs.
    (charm_dir / "paas-config.yaml").write_text(PAAS_CONFIG)
    metrics = testing.Relation("metrics-endpoint")
    ctx = testing.Context(charm.FlaskK8sCharm, charm_root=charm_dir, unit_id=2)

    out = ctx.run(ctx.on.leader_elected(), with_relations(state, metrics))

    rel = out.get_relation(metrics.id)
    leader = "flask-k8s-2.flask-k8s-endpoints.test-model.svc.cluster.local"
    scheduler_job = json.loads(rel.local_app_data["scrape_jobs"])[2]
    assert scheduler_job["static_configs"] == [{"targets": [f"{leader}:8082"]}]
    # The FQDN the leader gives in its own bag: Prometheus labels the target with the unit.
    assert rel.local_unit_data["prometheus_scrape_unit_fqdn"] == leader


def test_an_invalid_paas_config_leaves_the_default_job_with_a_warning(state, charm_dir, caplog):
    (charm_dir / "paas-config.yaml").write_text(PAAS_CONFIG.replace("8082", "http"))
    stale = json.dumps([{"job_name": "flask-custom-metrics", "static_configs": []}])
    metrics = testing.Relation("metrics-endpoint", local_app_data={"scrape_jobs": stale})
    ctx = testing.Context(charm.FlaskK8sCharm, charm_root=charm_dir)

    with caplog.at_level(logging.WARNING, logger="flask_k8s._juju_observability"):
        out = ctx.run(ctx.on.config_changed(), with_relations(state, metrics))

    assert json.loads(out.get_relation(metrics.id).local_app_data["scrape_jobs"]) == [
        {"metrics_path": "/metrics", "static_configs": [{"targets": ["*:9102"]}]}
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "observability: invalid paas-config.yaml: prometheus.scrape_configs[1].static_configs[0]"
        ".targets[0] '@scheduler:http' must be @scheduler:PORT, with PORT a number; only the"
        " default scrape job is published"
    ]


def test_a_follower_publishes_no_paas_config_job(state, charm_dir):
    (charm_dir / "paas-config.yaml").write_text(PAAS_CONFIG)
    metrics = testing.Relation("metrics-endpoint")
    ctx = testing.Context(charm.FlaskK8sCharm, charm_root=charm_dir)
    follower = dataclasses.replace(with_relations(state, metrics), leader=False)

    out = ctx.run(ctx.on.config_changed(), follower)

    assert out.get_relation(metrics.id).local_app_data == {}


def test_a_charm_without_the_endpoints_publishes_nothing_and_still_runs(state):
    meta = yaml.safe_load((CHARM_ROOT / "charmcraft.yaml").read_text())
    del meta["provides"]
    ctx = testing.Context(charm.FlaskK8sCharm, meta=meta)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()


@pytest.mark.parametrize(
    ("endpoint", "key"), [("metrics-endpoint", "scrape_jobs"), ("grafana-dashboard", "dashboards")]
)
def test_a_consumers_relation_changed_publishes_again(ctx, state, endpoint, key):
    rel = testing.Relation(endpoint)

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), with_relations(state, rel))

    assert key in out.get_relation(rel.id).local_app_data


def test_a_hook_without_observability_relations_does_not_import_the_cos_modules():
    # A fresh interpreter: this test process has imported them already.
    code = textwrap.dedent(
        """
        import sys
        sys.path[:0] = ["lib", "src", "."]
        from ops import testing
        import charm
        from tests.unit.conftest import Workload
        import pathlib, tempfile
        workload = Workload(pathlib.Path(tempfile.mkdtemp()))
        ctx = testing.Context(charm.FlaskK8sCharm)
        state = testing.State(leader=True, containers={workload.container()})
        ctx.run(ctx.on.config_changed(), state)
        print(sorted(name for name in sys.modules if name.startswith("flask_k8s._cos")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=CHARM_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert result.stdout.strip().splitlines()[-1] == "[]"
