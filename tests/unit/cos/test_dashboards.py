"""The grafana_dashboard provider's bag, and the shipped Flask dashboard."""

from __future__ import annotations

import json
import re

import pytest

from flask_k8s._cos import assets, dashboards, topology

TOPOLOGY = topology.Topology("m", "uuid-1", "shop", "shop/0", "flask-k8s")


def dashboard_file(name: str, content: object) -> assets.File:
    text = content if isinstance(content, str) else json.dumps(content)
    return assets.File(name, f"cos_custom/grafana_dashboards/{name}.json", text)


def shipped() -> dict:
    return json.loads((assets.SHIPPED / "grafana_dashboards" / "flask.json").read_text())


def test_compression_is_lzma_then_base64_and_round_trips():
    text = json.dumps({"title": "é" * 100})

    packed = dashboards.compress(text)

    assert packed.isascii()
    assert len(packed) < len(text)
    assert dashboards.decompress(packed) == text


def test_each_dashboard_is_sent_compressed_with_the_topology():
    templates, problems = dashboards.templates([dashboard_file("flask", {"title": "F"})], TOPOLOGY)

    assert problems == []
    template = templates["file:flask"]
    assert template["charm"] == "flask-k8s"
    assert template["juju_topology"] == {
        "model": "m",
        "model_uuid": "uuid-1",
        "application": "shop",
        "unit": "shop/0",
    }
    assert template["inject_dropdowns"] is True
    assert re.fullmatch("[0-9a-f]{16}", template["dashboard_alt_uid"])
    content = json.loads(dashboards.decompress(template["content"]))
    assert content["title"] == "F"
    assert re.fullmatch("[0-9a-f]{40}", content["uid"])
    assert content["tags"] == ["charm: flask-k8s"]


def test_uids_are_stable_and_differ_between_files():
    first, _ = dashboards.templates([dashboard_file("a", {}), dashboard_file("b", {})], TOPOLOGY)
    again, _ = dashboards.templates([dashboard_file("a", {})], TOPOLOGY)

    def uid(templates, name):
        return json.loads(dashboards.decompress(templates[f"file:{name}"]["content"]))["uid"]

    assert uid(first, "a") == uid(again, "a")
    assert uid(first, "a") != uid(first, "b")
    assert first["file:a"] == again["file:a"]


def test_an_authors_uid_and_charm_tag_are_kept():
    own = {"uid": "a" * 40, "tags": ["charm: mine", "web"]}

    templates, _ = dashboards.templates([dashboard_file("x", own)], TOPOLOGY)

    content = json.loads(dashboards.decompress(templates["file:x"]["content"]))
    assert content["uid"] == "a" * 40
    assert content["tags"] == ["charm: mine", "web"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "a dashboard must be a JSON object"),
        ('{"max": NaN}', "not valid JSON (NaN is not a JSON value)"),
        ('{"tags": "web"}', "tags must be a list of strings"),
        ('{"tags": [1]}', "tags must be a list of strings"),
    ],
)
def test_bad_dashboards_are_skipped_with_the_reason(text, message):
    templates, problems = dashboards.templates(
        [dashboard_file("bad", text), dashboard_file("good", {})], TOPOLOGY
    )

    assert list(templates) == ["file:good"]
    assert len(problems) == 1
    assert problems[0].startswith(f"cos_custom/grafana_dashboards/bad.json: {message}")
    assert problems[0].endswith("; file skipped")


def test_the_bag_keeps_its_uuid_while_the_dashboards_do_not_change():
    wanted = {"file:a": {"content": "x"}}
    current = json.dumps({"templates": wanted, "uuid": "old"})

    assert dashboards.app_bag(wanted, current, lambda: "new") == {"dashboards": current}


@pytest.mark.parametrize(
    "current", [None, "", "not json", "[]", json.dumps({"templates": {"file:a": {}}, "uuid": "o"})]
)
def test_a_new_uuid_comes_with_new_dashboards(current):
    wanted = {"file:a": {"content": "x"}}

    bag = dashboards.app_bag(wanted, current, lambda: "new")

    assert json.loads(bag["dashboards"]) == {"templates": wanted, "uuid": "new"}


TOPOLOGY_MATCHERS = (
    'juju_model=~"$juju_model"',
    'juju_model_uuid=~"$juju_model_uuid"',
    'juju_application=~"$juju_application"',
    'juju_unit=~"$juju_unit"',
)


def test_the_shipped_dashboard_has_the_panels_users_know():
    titles = [panel["title"] for panel in shipped()["panels"]]

    assert titles == [
        "Requests",
        "Status codes",
        "Requests per second",
        "2XX rate",
        "3XX rate",
        "4XX rate",
        "5XX rate",
        "Average request duration",
        "Request duration percentiles",
        "Top routes by request rate",
        "5XX ratio by route",
        "p99 duration by route",
        "Unhandled exceptions by route",
    ]


def test_every_query_of_the_shipped_dashboard_is_scoped_by_the_topology_variables():
    for panel in shipped()["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${prometheusds}"}
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${prometheusds}"
            for selector in re.findall(r"flask_\w+\{[^}]*\}", target["expr"]):
                assert all(matcher in selector for matcher in TOPOLOGY_MATCHERS), selector
            assert "juju_charm" not in target["expr"]


def test_status_panels_divide_rates_not_cumulative_counters():
    panels = {panel["title"]: panel for panel in shipped()["panels"]}

    for status in "2345":
        [target] = panels[f"{status}XX rate"]["targets"]
        numerator, denominator = target["expr"].split(" / ")
        assert f'status=~"{status}.."' in numerator
        assert numerator.startswith("(sum(rate(flask_response_code{")
        assert denominator.startswith("sum(rate(flask_response_code{")
        assert "[$__rate_interval]" in numerator
        assert "[$__rate_interval]" in denominator
        assert panels[f"{status}XX rate"]["fieldConfig"]["defaults"]["unit"] == "percentunit"


def test_durations_are_shown_in_seconds_with_the_three_percentiles():
    panels = {panel["title"]: panel for panel in shipped()["panels"]}

    percentiles = panels["Request duration percentiles"]
    assert [t["legendFormat"] for t in percentiles["targets"]] == [
        "p50 {{juju_unit}}",
        "p90 {{juju_unit}}",
        "p99 {{juju_unit}}",
    ]
    assert percentiles["fieldConfig"]["defaults"]["unit"] == "s"
    assert panels["Average request duration"]["fieldConfig"]["defaults"]["unit"] == "s"


def test_the_shipped_dashboard_offers_the_topology_variables_for_any_charm():
    variables = {v["name"]: v for v in shipped()["templating"]["list"]}

    assert list(variables) == ["juju_model", "juju_model_uuid", "juju_application", "juju_unit"]
    for variable in variables.values():
        assert variable["datasource"]["uid"] == "${prometheusds}"
        assert variable["includeAll"] is True
        assert "juju_charm" not in variable["definition"]
