"""Behind an ingress: the app builds its external URLs from what a trusted ingress forwards."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

import flask_k8s
from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import ingress
from tests.integration.conftest import URL

HEADERS = {
    "Host": "app.example.com",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/prod-flask-k8s",
}


def related(ingress_address: str):
    """What the ingress integration gives, computed by the charm from Traefik's answer."""
    data = relation.RemoteData(
        relation_id=1,
        app={"ingress": json.dumps({"url": "https://app.example.com/prod-flask-k8s"})},
        units={"traefik/0": {"ingress-address": ingress_address}},
    )
    context = relation.Context(endpoint="ingress", interface="ingress", app_name="flask-k8s")
    return ingress.environment(context, data, lambda uri: {})


def external_url() -> str:
    request = urllib.request.Request(URL + "/url", headers=HEADERS)  # noqa: S310 (local)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (local)
        return json.loads(response.read())["url"]


@pytest.fixture
def behind(flask_workload):
    def reconcile(ingress_address: str) -> None:
        given = flask_k8s.Integrations(environment=related(ingress_address))
        assert flask_workload.reconcile(related=given, token="t") == "active"

    return reconcile


def test_a_trusted_ingress_gives_the_app_its_external_scheme_host_and_prefix(behind):
    behind("127.0.0.1")

    assert external_url() == "https://app.example.com/prod-flask-k8s/"


def test_forwarded_headers_from_anyone_else_are_ignored(behind):
    behind("10.9.9.9")

    assert external_url() == "http://app.example.com/"


def test_a_new_ingress_address_is_trusted_after_a_rolling_reload(behind):
    # gunicorn reads FORWARDED_ALLOW_IPS once, when it is imported: the master sets it anew
    # from the settings on every reload.
    behind("10.9.9.9")
    assert external_url() == "http://app.example.com/"

    behind("127.0.0.1")

    deadline = time.monotonic() + 30
    while external_url() != "https://app.example.com/prod-flask-k8s/":
        assert time.monotonic() < deadline, "the new ingress address is not trusted"
        time.sleep(0.2)
