"""A charm built on the library with a relation of its own, and metadata that lacks parts."""

from __future__ import annotations

import copy
import dataclasses
import typing

import pydantic
import yaml
from ops import testing

import flask_k8s.charm
from flask_k8s import requirer
from tests.unit import conftest

META = yaml.safe_load((conftest.CHARM_ROOT / "charmcraft.yaml").read_text())


class PaymentsAnswer(pydantic.BaseModel):
    url: pydantic.AnyHttpUrl
    timeout: int = 5


PAYMENTS = requirer.Databag(
    PaymentsAnswer,
    prefix="PAYMENTS_",
    required=["url"],
    secret_fields=["token-secret"],
    request={"app": "shop"},
)


class ShopCharm(flask_k8s.charm.FlaskCharm):
    requirers: typing.ClassVar = {"payments": PAYMENTS}


def _meta(optional: bool = True, **changes: typing.Any) -> dict[str, typing.Any]:
    meta = copy.deepcopy(META)
    meta["requires"]["payments"] = {"interface": "payments", "optional": optional}
    meta.update(changes)
    return meta


def _ctx(meta: dict[str, typing.Any] | None = None) -> testing.Context:
    return testing.Context(ShopCharm, meta=meta or _meta())


def _payments(app_data: dict[str, str]) -> testing.Relation:
    return testing.Relation("payments", interface="payments", remote_app_data=app_data)


def test_the_charms_own_relation_gives_the_app_its_variables_and_gets_its_request(state):
    relation = _payments({"url": "https://pay.example.com/", "timeout": "7"})

    out = _ctx().run(
        _ctx().on.relation_changed(relation),
        dataclasses.replace(state, relations={*state.relations, relation}),
    )

    assert out.unit_status == testing.ActiveStatus()
    env = conftest.flask_env(out)
    assert env["PAYMENTS_URL"] == "https://pay.example.com/"
    assert env["PAYMENTS_TIMEOUT"] == "7"
    assert out.get_relation(relation.id).local_app_data == {"app": "shop"}


def test_an_optional_relation_still_answering_is_waited_for(state):
    relation = _payments({"timeout": "7"})

    out = _ctx().run(
        _ctx().on.relation_changed(relation),
        dataclasses.replace(state, relations={*state.relations, relation}),
    )

    assert out.unit_status == testing.WaitingStatus("waiting for integrations: payments")


def test_a_required_relation_that_is_absent_blocks_naming_it(state):
    out = _ctx(_meta(optional=False)).run(_ctx().on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("missing integrations: payments")


def test_an_answer_the_model_refuses_blocks_naming_the_field_not_the_value(state):
    relation = _payments({"url": "hunter2-not-a-url"})

    out = _ctx().run(
        _ctx().on.relation_changed(relation),
        dataclasses.replace(state, relations={*state.relations, relation}),
    )

    assert out.unit_status == testing.BlockedStatus("payments relation: url: not a URL")


def test_a_token_from_the_providers_secret_reaches_the_app_and_no_status(state):
    secret = testing.Secret({"token": "s3cr3t-t0k3n"}, owner=None)
    relation = _payments({"url": "hunter2", "token-secret": secret.id})

    out = _ctx().run(
        _ctx().on.relation_changed(relation),
        dataclasses.replace(
            state, relations={*state.relations, relation}, secrets={*state.secrets, secret}
        ),
    )

    assert out.unit_status.name == "blocked"
    assert "s3cr3t-t0k3n" not in out.unit_status.message
    good = _payments({"url": "https://pay.example.com/", "token-secret": secret.id})
    out = _ctx().run(
        _ctx().on.relation_changed(good),
        dataclasses.replace(
            state, relations={*state.relations, good}, secrets={*state.secrets, secret}
        ),
    )
    assert conftest.flask_env(out)["PAYMENTS_TOKEN"] == "s3cr3t-t0k3n"


def test_a_charm_without_the_peer_relation_says_so_instead_of_failing(state):
    meta = _meta(peers={})
    state = dataclasses.replace(state, relations=set())

    out = _ctx(meta).run(_ctx(meta).on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "charm metadata: no peer relation 'secret-storage' (peers:), where the secret key and "
        "the migration records are kept"
    )


def test_a_charm_without_the_container_says_so_instead_of_failing(state):
    meta = _meta(containers={}, resources={})
    state = dataclasses.replace(state, containers=set())

    out = _ctx(meta).run(_ctx(meta).on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "charm metadata: no container 'flask-app' (containers:)"
    )


def test_a_requirer_for_an_endpoint_the_metadata_lacks_is_named(state):
    out = _ctx(copy.deepcopy(META)).run(_ctx().on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "charm metadata: requirers for undeclared endpoints: payments (requires:)"
    )
