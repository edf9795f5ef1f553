"""Alert rule files: labelled with the topology, scoped to the app, bad files left out."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from flask_k8s._cos import assets, rules, topology

TOPOLOGY = topology.Topology(
    model="test-model",
    model_uuid="1234",
    application="shop",
    unit="shop/0",
    charm_name="flask-k8s",
)
MATCHERS = 'juju_model="test-model",juju_model_uuid="1234",juju_application="shop"'
LABELS = {
    "juju_model": "test-model",
    "juju_model_uuid": "1234",
    "juju_application": "shop",
    "juju_charm": "flask-k8s",
}


def rule_file(name: str, text: str) -> assets.File:
    return assets.File(name, f"cos_custom/prometheus_alert_rules/{name}.rules", text)


def test_a_file_with_one_rule_becomes_a_group_named_after_the_app_and_file():
    text = "alert: Down\nexpr: up == 0\nfor: 1m\nlabels: {severity: critical}\n"

    groups = rules.parse("custom_down", text, TOPOLOGY)

    assert groups == [
        {
            "name": "test-model_1234_shop_custom_down_rules",
            "rules": [
                {
                    "alert": "Down",
                    "expr": f"up{{{MATCHERS}}} == 0",
                    "for": "1m",
                    "labels": {"severity": "critical", **LABELS},
                }
            ],
        }
    ]


def test_groups_keep_their_other_fields_and_every_rule_is_scoped():
    text = textwrap.dedent(
        """\
        groups:
          - name: errors
            interval: 30s
            rules:
              - alert: Errors
                expr: rate(flask_response_code{status=~"5.."}[5m]) > 1
              - record: app:requests:rate5m
                expr: sum(rate(flask_requests[5m]))
        """
    )

    [group] = rules.parse("flask", text, TOPOLOGY)

    assert group["name"] == "test-model_1234_shop_flask_errors"
    assert group["interval"] == "30s"
    assert [rule["expr"] for rule in group["rules"]] == [
        f'rate(flask_response_code{{status=~"5..",{MATCHERS}}}[5m]) > 1',
        f"sum(rate(flask_requests{{{MATCHERS}}}[5m]))",
    ]
    assert all(rule["labels"] == LABELS for rule in group["rules"])


def test_topology_labels_win_over_the_authors():
    text = "alert: A\nexpr: up\nlabels: {juju_application: other, team: web}\n"

    [group] = rules.parse("a", text, TOPOLOGY)

    assert group["rules"][0]["labels"] == {"team": "web", **LABELS}


def test_an_empty_file_has_no_rules():
    assert rules.parse("empty", "# nothing yet\n", TOPOLOGY) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups: [\n", "not valid YAML (line 2)"),
        ("- alert: A\n", "expected one rule (alert and expr) or groups of rules"),
        ("groups: {name: a}\n", "groups must be a list"),
        ("groups: [3]\n", "group 1 is not a mapping"),
        ("groups: [{rules: [{alert: A, expr: up}]}]\n", "group 1 has no name"),
        ("groups: [{name: g, rules: []}]\n", "group 'g' has no rules"),
        ("groups: [{name: g, rules: [up]}]\n", "a rule of group 'g' is not a mapping"),
        ("groups: [{name: g, rules: [{expr: up}]}]\n", "a rule of group 'g' has neither"),
        ("alert: A\n", "rule 'A' has no expr"),
        ("alert: A\nexpr: true\n", "rule 'A' has no expr"),
        ("alert: A\nexpr: up\nlabels: [a]\n", "the labels of rule 'A' are not a mapping"),
        ('alert: A\nexpr: up{a="b}\n', "rule 'A': unterminated string"),
        (
            "alert: A\nexpr: up\nannotations: {since: 2024-01-01}\n",
            "holds values JSON cannot carry",
        ),
        ("alert: A\nexpr: up\nlabels: {blob: !!binary aGk=}\n", "holds values JSON cannot"),
        (
            "groups: [{name: g, rules: [{alert: A, expr: up}]}, "
            "{name: g, rules: [{alert: B, expr: up}]}]\n",
            "two groups are named 'g'",
        ),
    ],
)
def test_unusable_files_say_why(text, message):
    with pytest.raises(rules.InvalidRules) as raised:
        rules.parse("bad", text, TOPOLOGY)

    assert raised.value.message.startswith(message)


def test_alert_rules_skip_bad_files_and_keep_the_others():
    files = [
        rule_file("good", "alert: Good\nexpr: up\n"),
        rule_file("bad", "alert: [\n"),
        rule_file("numeric", "alert: Always\nexpr: 1\n"),
    ]

    alert_rules, problems = rules.alert_rules(files, TOPOLOGY)

    assert [group["rules"][0]["alert"] for group in alert_rules["groups"]] == ["Good", "Always"]
    assert alert_rules["groups"][1]["rules"][0]["expr"] == "1"
    assert problems == [
        "cos_custom/prometheus_alert_rules/bad.rules: not valid YAML (line 2); file skipped"
    ]


def test_shipped_rules_alert_on_down_errors_and_latency_of_this_app_only(tmp_path):
    files, problems = assets.load(assets.PROMETHEUS_RULES, tmp_path)

    alert_rules, invalid = rules.alert_rules(files, TOPOLOGY)

    assert problems == invalid == []
    by_name = {rule["alert"]: rule for group in alert_rules["groups"] for rule in group["rules"]}
    assert set(by_name) == {
        "FlaskTargetDown",
        "FlaskTargetMissing",
        "FlaskHighServerErrorRate",
        "FlaskSlowResponses",
        "FlaskRouteHighServerErrorRate",
    }
    for rule in by_name.values():
        assert rule["labels"]["juju_application"] == "shop"
        assert MATCHERS in rule["expr"]
    # The exporter reports durations in seconds (statsd timers are converted from ms).
    assert by_name["FlaskSlowResponses"]["expr"].endswith("> 2")
    assert by_name["FlaskTargetDown"]["for"] == "2m"
    # The shipped file is plain YAML Prometheus reads as it is.
    assert yaml.safe_load(files[0].text)["groups"]
