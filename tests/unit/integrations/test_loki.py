"""logging: Pebble log targets for every Loki push URL, labelled with the Juju topology."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
from ops import testing

import charm
from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import loki
from tests.unit import conftest

CONTEXT = relation.Context(
    endpoint="logging",
    interface="loki_push_api",
    app_name="flask-k8s",
    model_name="prod",
    model_uuid="1234",
    unit_name="flask-k8s/0",
    charm_name="flask-k8s",
)
LABELS = {
    "product": "Juju",
    "charm": "flask-k8s",
    "juju_model": "prod",
    "juju_model_uuid": "1234",
    "juju_application": "flask-k8s",
    "juju_unit": "flask-k8s/0",
}


def loki_units(*urls: str) -> dict[str, dict[str, str]]:
    """What Loki units write: each its push URL, JSON in `endpoint`."""
    return {f"loki/{n}": {"endpoint": json.dumps({"url": url})} for n, url in enumerate(urls)}


def targets(units: dict[str, dict[str, str]]) -> dict:
    return loki.log_targets(CONTEXT, relation.RemoteData(relation_id=1, units=units))


def test_one_target_per_loki_unit_for_all_services_with_topology_labels():
    result = targets(loki_units("http://loki-0:3100/loki/api/v1/push", "http://loki-1:3100/p"))

    assert result == {
        "loki/0": {
            "override": "replace",
            "type": "loki",
            "location": "http://loki-0:3100/loki/api/v1/push",
            "services": ["all"],
            "labels": LABELS,
        },
        "loki/1": {**result["loki/0"], "location": "http://loki-1:3100/p"},
    }


def test_units_publishing_the_same_url_give_one_target():
    result = targets(loki_units("http://loki:3100/push", "http://loki:3100/push"))

    assert list(result) == ["loki/0"]


def test_units_sort_by_number():
    units = {f"loki/{n}": {"endpoint": json.dumps({"url": f"http://l{n}/p"})} for n in (10, 2)}

    assert list(targets(units)) == ["loki/2", "loki/10"]


def test_no_url_yet_is_waited_for():
    with pytest.raises(relation.NotReady):
        targets({"loki/0": {}})


@pytest.mark.parametrize(
    "endpoint", ["nope", "[]", '{"url": 1}', '{"url": "loki:3100"}', '{"url": "http://[x"}']
)
def test_an_unusable_endpoint_is_invalid_data(endpoint):
    with pytest.raises(relation.InvalidData):
        targets({"loki/0": {"endpoint": endpoint}})


def test_request_tells_loki_our_topology():
    request = loki.request(CONTEXT, {})

    assert json.loads(request["metadata"]) == {
        "model": "prod",
        "model_uuid": "1234",
        "application": "flask-k8s",
        "unit": "flask-k8s/0",
        "charm_name": "flask-k8s",
    }
    assert json.loads(request["alert_rules"]) == {"groups": []}


def test_log_targets_reach_the_pebble_layer_and_are_switched_off_when_loki_goes(ctx, state):
    rel = testing.Relation(
        "logging",
        remote_app_name="loki",
        remote_units_data={0: loki_units("http://l/p")["loki/0"]},
    )
    state = dataclasses.replace(state, relations={*state.relations, rel})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)

    target = out.get_container("flask-app").plan.log_targets["loki/0"]
    assert target.location == "http://l/p"
    assert target.services == ["all"]
    assert target.labels["juju_application"] == "flask-k8s"
    assert json.loads(out.get_relation(rel.id).local_app_data["metadata"])["model"] == (
        "test-model"
    )

    gone = ctx.run(ctx.on.relation_broken(out.get_relation(rel.id)), out)

    assert gone.get_container("flask-app").plan.log_targets["loki/0"].services == ["-all"]
    assert gone.unit_status == testing.ActiveStatus()


def test_custom_loki_rules_are_sent_scoped_to_the_app_and_bad_ones_skipped(
    state, tmp_path, caplog
):
    charm_dir = tmp_path / "charm"
    rules_dir = charm_dir / "cos_custom" / "loki_alert_rules"
    rules_dir.mkdir(parents=True)
    (charm_dir / "charmcraft.yaml").write_text(
        (conftest.CHARM_ROOT / "charmcraft.yaml").read_text()
    )
    expr = 'sum(count_over_time({pebble_service="flask"} |= "ERROR" [5m])) > 10'
    (rules_dir / "errors.rules").write_text(f"alert: ManyErrors\nexpr: '{expr}'\n")
    (rules_dir / "broken.rules").write_text("alert: [\n")
    ctx = testing.Context(charm.FlaskK8sCharm, charm_root=charm_dir)
    rel = testing.Relation("logging", remote_units_data={0: loki_units("http://l/p")["loki/0"]})

    with caplog.at_level(logging.WARNING, logger="flask_k8s._interfaces.loki"):
        out = ctx.run(
            ctx.on.relation_changed(rel, remote_unit=0),
            dataclasses.replace(state, relations={*state.relations, rel}),
        )

    groups = json.loads(out.get_relation(rel.id).local_app_data["alert_rules"])["groups"]
    [rule] = [rule for group in groups for rule in group["rules"]]
    assert rule["alert"] == "ManyErrors"
    assert '{pebble_service="flask",juju_model="test-model",' in rule["expr"]
    assert rule["labels"]["juju_application"] == "flask-k8s"
    assert any("broken.rules" in record.getMessage() for record in caplog.records)


def test_every_logging_relation_gets_the_logs(ctx, state):
    # The endpoint has no limit: a second Loki (another model's, say) gets them too.
    first = testing.Relation(
        "logging",
        remote_app_name="loki",
        remote_units_data={0: loki_units("http://a/p")["loki/0"]},
    )
    second = testing.Relation(
        "logging",
        remote_app_name="loki-b",
        remote_units_data={0: {"endpoint": json.dumps({"url": "http://b/p"})}},
    )
    state = dataclasses.replace(state, relations={*state.relations, first, second})

    out = ctx.run(ctx.on.relation_changed(second, remote_unit=0), state)

    targets = out.get_container("flask-app").plan.log_targets
    assert {target.location for target in targets.values()} == {"http://a/p", "http://b/p"}
    assert out.unit_status == testing.ActiveStatus()


def test_a_loki_still_answering_waits_without_stopping_the_others(ctx, state):
    ready = testing.Relation(
        "logging",
        remote_app_name="loki",
        remote_units_data={0: loki_units("http://a/p")["loki/0"]},
    )
    answering = testing.Relation("logging", remote_app_name="loki-b")
    state = dataclasses.replace(state, relations={*state.relations, ready, answering})

    out = ctx.run(ctx.on.relation_created(answering), state)

    targets = out.get_container("flask-app").plan.log_targets
    assert [target.location for target in targets.values()] == ["http://a/p"]
