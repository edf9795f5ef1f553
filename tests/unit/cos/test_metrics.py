"""The prometheus_scrape provider's bags: the exporter's job, then paas-config.yaml's."""

from __future__ import annotations

import json

import pytest

from flask_k8s import _paas_config as paas_config
from flask_k8s import _state as state
from flask_k8s._cos import metrics, topology

TOPOLOGY = topology.Topology("m", "uuid-1", "shop", "shop/2", "flask-k8s")


def test_the_app_bag_names_the_exporter_port_on_every_unit_and_the_topology():
    bag = metrics.app_bag(TOPOLOGY, 9200, {"groups": [{"name": "g", "rules": []}]})

    assert json.loads(bag["scrape_jobs"]) == [
        {"metrics_path": "/metrics", "static_configs": [{"targets": ["*:9200"]}]}
    ]
    assert json.loads(bag["scrape_metadata"]) == {
        "model": "m",
        "model_uuid": "uuid-1",
        "application": "shop",
        "unit": "shop/2",
        "charm_name": "flask-k8s",
    }
    assert json.loads(bag["alert_rules"]) == {"groups": [{"name": "g", "rules": []}]}


def test_the_fqdn_is_the_units_pod_in_the_headless_service():
    assert state.unit_fqdn("shop/2", "prod") == "shop-2.shop-endpoints.prod.svc.cluster.local"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("fd00::1", "fd00::1"),
        ("shop.example.com", "fqdn"),
        ("", "fqdn"),
        (None, "fqdn"),
    ],
)
def test_the_unit_address_is_its_ip_or_else_its_fqdn(address, expected):
    assert metrics.unit_address(address, "fqdn") == expected


def test_the_unit_bag_says_where_and_who_the_unit_is():
    assert metrics.unit_bag("shop/2", "10.1.2.3", "f") == {
        "prometheus_scrape_unit_address": "10.1.2.3",
        "prometheus_scrape_unit_name": "shop/2",
        "prometheus_scrape_unit_fqdn": "f",
    }


def job(name: str, *statics: paas_config.StaticConfig, path: str = "/metrics"):
    return paas_config.ScrapeConfig(job_name=name, static_configs=statics, metrics_path=path)


def test_paas_config_jobs_follow_the_exporter_job_with_their_path_targets_and_labels():
    extra = [
        job(
            "custom",
            paas_config.StaticConfig(("*:8081", "db:5432"), {"app": "flask"}),
            paas_config.StaticConfig(("*:8083",)),
            path="/internal/metrics",
        ),
        job("empty"),
    ]

    jobs = metrics.scrape_jobs(9102, extra, scheduler_host="h")

    assert jobs == [
        {"metrics_path": "/metrics", "static_configs": [{"targets": ["*:9102"]}]},
        {
            "job_name": "custom",
            "metrics_path": "/internal/metrics",
            "static_configs": [
                {"targets": ["*:8081", "db:5432"], "labels": {"app": "flask"}},
                # As paas-charm: no labels key without labels.
                {"targets": ["*:8083"]},
            ],
        },
        {"job_name": "empty", "metrics_path": "/metrics", "static_configs": []},
    ]


def test_a_scheduler_target_becomes_the_scheduler_host_with_its_port():
    extra = [job("s", paas_config.StaticConfig(("@scheduler:8082", "*:1", "@worker:80")))]

    [_, scheduler] = metrics.scrape_jobs(9102, extra, scheduler_host="shop-1.shop-endpoints.m")

    assert scheduler["static_configs"][0]["targets"] == [
        "shop-1.shop-endpoints.m:8082",
        "*:1",
        "@worker:80",
    ]


def test_the_app_bag_carries_the_paas_config_jobs():
    extra = [job("s", paas_config.StaticConfig(("@scheduler:8082",)))]

    bag = metrics.app_bag(TOPOLOGY, 9200, {}, extra, scheduler_host="h")

    assert json.loads(bag["scrape_jobs"])[1] == {
        "job_name": "s",
        "metrics_path": "/metrics",
        "static_configs": [{"targets": ["h:8082"]}],
    }
