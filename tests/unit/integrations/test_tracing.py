"""tracing: the provider's otlp_http receiver as OpenTelemetry's standard variables."""

from __future__ import annotations

import dataclasses
import json

import pytest
from ops import testing

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import tracing
from tests.unit import conftest

CONTEXT = relation.Context(
    endpoint="tracing",
    interface="tracing",
    app_name="flask-k8s",
    model_name="prod",
    model_uuid="1234",
    unit_name="flask-k8s/0",
    charm_name="flask-k8s",
)
RECEIVERS = [
    {"protocol": {"name": "otlp_grpc", "type": "grpc"}, "url": "tempo.cos.svc:4317"},
    {"protocol": {"name": "otlp_http", "type": "http"}, "url": "http://tempo.cos.svc:4318"},
]


def provider_answer(request: dict[str, str]) -> dict[str, str]:
    """A Tempo-like provider: it serves the requested protocols it knows, with their URLs."""
    requested = json.loads(request["receivers"])
    return {
        "receivers": json.dumps(
            [receiver for receiver in RECEIVERS if receiver["protocol"]["name"] in requested]
        )
    }


def environment(app: dict[str, str]) -> dict[str, str]:
    return tracing.environment(
        CONTEXT, relation.RemoteData(relation_id=1, app=app), lambda uri: {}
    )


def test_two_sided_otlp_http_receiver_becomes_otel_variables():
    answer = provider_answer(tracing.request(CONTEXT, {}))

    env = environment(answer)

    assert env == {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://tempo.cos.svc:4318",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SERVICE_NAME": "flask-k8s",
        "OTEL_RESOURCE_ATTRIBUTES": (
            "juju_model=prod,juju_model_uuid=1234,juju_application=flask-k8s,"
            "juju_unit=flask-k8s%2F0,juju_charm=flask-k8s"
        ),
    }


def test_no_answer_yet_is_waited_for():
    with pytest.raises(relation.NotReady):
        environment({})


@pytest.mark.parametrize(
    "receivers",
    [
        "not json",
        '{"url": "http://x"}',
        '["otlp_http"]',
        json.dumps([RECEIVERS[0]]),
        json.dumps([{"protocol": {"name": "otlp_http"}, "url": "tempo:4318"}]),
        json.dumps([{"protocol": {"name": "otlp_http"}, "url": 4318}]),
        json.dumps([{"protocol": "otlp_http", "url": "http://x"}]),
    ],
)
def test_an_unusable_answer_is_invalid_data(receivers):
    with pytest.raises(relation.InvalidData):
        environment({"receivers": receivers})


def test_tracing_reaches_the_app_through_the_charm(ctx, state):
    rel = testing.Relation("tracing")
    created = ctx.run(
        ctx.on.relation_created(rel), dataclasses.replace(state, relations={*state.relations, rel})
    )
    request = dict(created.get_relation(rel.id).local_app_data)
    answered = dataclasses.replace(
        created.get_relation(rel.id), remote_app_data=provider_answer(request)
    )

    out = ctx.run(
        ctx.on.relation_changed(answered, remote_unit=0),
        dataclasses.replace(created, relations={*state.relations, answered}),
    )

    env = conftest.flask_env(out)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://tempo.cos.svc:4318"
    assert env["OTEL_SERVICE_NAME"] == "flask-k8s"
    assert "juju_model=test-model" in env["OTEL_RESOURCE_ATTRIBUTES"]
    assert out.unit_status == testing.ActiveStatus()
