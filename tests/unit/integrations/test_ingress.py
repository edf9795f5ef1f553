"""ingress: the app's external URL, and the ingress units gunicorn may trust."""

from __future__ import annotations

import dataclasses
import json

import ops
import pytest
from ops import testing

import flask_k8s
from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import ingress
from tests.unit import conftest

CONTEXT = relation.Context(
    endpoint="ingress",
    interface="ingress",
    app_name="flask-k8s",
    model_name="prod",
    unit_host="flask-k8s-0.flask-k8s-endpoints.prod.svc.cluster.local",
    unit_ip="10.1.0.7",
)


def traefik(app_bag: dict[str, str], unit_bags: dict[str, dict[str, str]]) -> dict[str, str]:
    """A model of Traefik's ingress v2 provider: it parses the request like Traefik does
    (every value JSON) and publishes http://<external host>/<model>-<app>."""
    model, name = json.loads(app_bag["model"]), json.loads(app_bag["name"])
    port = json.loads(app_bag["port"])
    assert isinstance(port, int) and 0 < port < 65535
    assert json.loads(app_bag["strip-prefix"]) is True
    assert all("host" in bag for bag in unit_bags.values())
    return {"ingress": json.dumps({"url": f"http://ingress.example.com/{model}-{name}"})}


def environment(app: dict[str, str], units=None) -> dict[str, str]:
    data = relation.RemoteData(relation_id=1, app=app, units=units or {})
    return ingress.environment(CONTEXT, data, lambda uri: {})


def test_request_publishes_the_app_and_units_json_encoded():
    assert ingress.request(CONTEXT, {}) == {
        "model": '"prod"',
        "name": '"flask-k8s"',
        "port": "8000",
        "strip-prefix": "true",
        "redirect-https": "false",
        "scheme": '"http"',
    }
    assert ingress.unit_request(CONTEXT) == {
        "host": '"flask-k8s-0.flask-k8s-endpoints.prod.svc.cluster.local"',
        "ip": '"10.1.0.7"',
    }
    assert "ip" not in ingress.unit_request(flask_k8s.replace(CONTEXT, unit_ip=None))


def test_two_sided_the_provider_url_becomes_the_base_url():
    answer = traefik(ingress.request(CONTEXT, {}), {"flask-k8s/0": ingress.unit_request(CONTEXT)})

    env = environment(answer, {"traefik/0": {"ingress-address": "10.1.0.2"}})

    assert env == {
        "FLASK_BASE_URL": "http://ingress.example.com/prod-flask-k8s",
        "FORWARDED_ALLOW_IPS": "10.1.0.2",
    }


def test_only_the_ingress_units_addresses_are_trusted():
    units = {
        "traefik/0": {"ingress-address": "10.1.0.2", "private-address": "10.1.0.2"},
        "traefik/1": {"ingress-address": " fd00::3 "},
        "traefik/2": {"ingress-address": "traefik-2.traefik-endpoints"},
        "traefik/3": {},
    }

    env = environment({"ingress": '{"url": "https://app.example.com/"}'}, units)

    assert env["FORWARDED_ALLOW_IPS"] == "10.1.0.2,fd00::3"


def test_without_known_ingress_addresses_nothing_extra_is_trusted():
    env = environment({"ingress": '{"url": "https://app.example.com/"}'})

    assert "FORWARDED_ALLOW_IPS" not in env


def test_no_url_yet_is_waited_for():
    with pytest.raises(relation.NotReady):
        environment({})


@pytest.mark.parametrize(
    "answer",
    ["not json", "[]", "{}", '{"url": 3}', '{"url": "ftp://x/"}', '{"url": "app.example.com"}'],
)
def test_an_unusable_url_is_invalid_data(answer):
    with pytest.raises(relation.InvalidData):
        environment({"ingress": answer})


def test_ingress_through_the_charm_sets_the_base_url_and_revoking_it_restores_it(ctx, state):
    rel = testing.Relation(
        "ingress",
        remote_app_data={"ingress": json.dumps({"url": "https://app.example.com/prod"})},
        remote_units_data={0: {"ingress-address": "10.1.0.2"}},
    )
    state = dataclasses.replace(state, relations={*state.relations, rel})

    out = ctx.run(ctx.on.relation_changed(rel, remote_unit=0), state)

    env = conftest.flask_env(out)
    assert env["FLASK_BASE_URL"] == "https://app.example.com/prod"
    assert env["FORWARDED_ALLOW_IPS"] == "10.1.0.2"
    related = out.get_relation(rel.id)
    assert json.loads(related.local_app_data["port"]) == 8000
    assert json.loads(related.local_unit_data["host"])
    assert json.loads(related.local_unit_data["ip"]) == "192.0.2.0"

    revoked = ctx.run(ctx.on.relation_broken(related), out)

    env = conftest.flask_env(revoked)
    assert env["FLASK_BASE_URL"] == "http://flask-k8s.test-model:8000"
    assert "FORWARDED_ALLOW_IPS" not in env


def test_every_unit_publishes_its_address_but_only_the_leader_the_app(ctx, state):
    rel = testing.Relation("ingress")
    state = dataclasses.replace(state, leader=False, relations={*state.relations, rel})

    out = ctx.run(ctx.on.relation_joined(rel, remote_unit=0), state)

    related = out.get_relation(rel.id)
    assert related.local_app_data == {}
    assert set(related.local_unit_data) >= {"host", "ip"}


def test_a_unit_whose_network_is_not_ready_publishes_its_name_only(ctx, state, monkeypatch):
    # network-get fails while a pod's network is being set up: no hook error.
    def no_network(self, name, relation_id=None):
        raise ops.ModelError("ERROR no network config found")

    monkeypatch.setattr(ops.Binding, "_network_get", no_network)
    rel = testing.Relation("ingress")
    state = dataclasses.replace(state, relations={*state.relations, rel})

    out = ctx.run(ctx.on.relation_joined(rel, remote_unit=0), state)

    unit_bag = out.get_relation(rel.id).local_unit_data
    assert "host" in unit_bag
    assert "ip" not in unit_bag
