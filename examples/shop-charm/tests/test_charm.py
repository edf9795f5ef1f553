"""The shop charm: its relation, variables, steps and action, on the library's reconcile."""

from __future__ import annotations

import copy
import dataclasses

import conftest
import pytest
from ops import testing

from tests.unit import conftest as library


def _payments(app_data: dict[str, str]) -> testing.Relation:
    return testing.Relation("payments", interface="payments", remote_app_data=app_data)


def _with(state: testing.State, *relations: testing.Relation) -> testing.State:
    return dataclasses.replace(state, relations={*state.relations, *relations})


# The custom relation.


def test_the_payments_answer_reaches_the_app_and_the_request_is_written(make_ctx, state):
    relation = _payments({"url": "https://pay.example.com/", "timeout": "7"})
    ctx = make_ctx()

    out = ctx.run(ctx.on.relation_changed(relation), _with(state, relation))

    assert out.unit_status == testing.ActiveStatus()
    env = library.flask_env(out)
    assert env["PAYMENTS_URL"] == "https://pay.example.com/"
    assert env["PAYMENTS_TIMEOUT"] == "7"
    assert out.get_relation(relation.id).local_app_data == {"app": "shop"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"timeout": "7"}, testing.WaitingStatus("waiting for integrations: payments")),
        # The model refuses it: the field is named, never the value.
        ({"url": "hunter2-not-a-url"}, testing.BlockedStatus("payments relation: url: not a URL")),
    ],
)
def test_an_answer_not_ready_or_refused_says_so(make_ctx, state, answer, expected):
    relation = _payments(answer)
    ctx = make_ctx()

    out = ctx.run(ctx.on.relation_changed(relation), _with(state, relation))

    assert out.unit_status == expected


def test_payments_required_and_absent_blocks_naming_it(make_ctx, state):
    meta = conftest.metadata()
    meta["requires"]["payments"]["optional"] = False
    ctx = make_ctx(meta)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("missing integrations: payments")


def test_the_token_from_the_providers_secret_reaches_the_app_and_no_status(make_ctx, state):
    secret = testing.Secret({"token": "s3cr3t-t0k3n"}, owner=None)
    ctx = make_ctx()
    bad = _payments({"url": "hunter2", "token-secret": secret.id})
    good = _payments({"url": "https://pay.example.com/", "token-secret": secret.id})

    refused = ctx.run(
        ctx.on.relation_changed(bad),
        dataclasses.replace(_with(state, bad), secrets={*state.secrets, secret}),
    )
    out = ctx.run(
        ctx.on.relation_changed(good),
        dataclasses.replace(_with(state, good), secrets={*state.secrets, secret}),
    )

    assert refused.unit_status.name == "blocked"
    assert "s3cr3t-t0k3n" not in refused.unit_status.message
    assert library.flask_env(out)["PAYMENTS_TOKEN"] == "s3cr3t-t0k3n"


def test_the_payments_file_is_rendered_and_follows_the_answer(make_ctx, state, workload):
    ctx = make_ctx()
    first = _payments({"url": "https://pay.example.com/"})
    out = ctx.run(ctx.on.relation_changed(first), _with(state, first))
    settings = workload.environment
    payments = workload.app_dir / "payments.toml"
    assert 'url = "https://pay.example.com/"' in payments.read_text()
    assert 'unit = "shop/0"' in payments.read_text()

    moved = dataclasses.replace(first, remote_app_data={"url": "https://new.example.com/"})
    out = ctx.run(
        ctx.on.relation_changed(moved),
        dataclasses.replace(out, relations={*state.relations, moved}),
    )

    assert 'url = "https://new.example.com/"' in payments.read_text()
    # A new file is a new setting: the app's workers roll over to read it.
    assert workload.environment != settings


# Variables of its own, and the steps around a change.


def test_the_shops_variables_reach_the_app(make_ctx, state):
    ctx = make_ctx()

    out = ctx.run(
        ctx.on.config_changed(), dataclasses.replace(state, config={"shop-currency": "usd"})
    )

    env = library.flask_env(out)
    assert env["SHOP_CURRENCY"] == "USD"
    assert env["SHOP_UNIT"] == "shop/0"
    assert env["FLASK_SHOP_CURRENCY"] == "usd"


def test_the_config_file_is_written_before_the_app_gets_the_settings(make_ctx, state, workload):
    ctx = make_ctx()

    out = ctx.run(
        ctx.on.config_changed(), dataclasses.replace(state, config={"shop-currency": "gbp"})
    )

    assert (workload.app_dir / "shop.conf").read_text() == "currency = GBP\n"
    assert out.workload_version == "shop"


def test_a_currency_the_shop_refuses_blocks_and_the_app_keeps_its_settings(make_ctx, state):
    ctx = make_ctx()
    out = ctx.run(ctx.on.config_changed(), state)

    out = ctx.run(
        ctx.on.config_changed(), dataclasses.replace(out, config={"shop-currency": "xyz"})
    )

    assert out.unit_status == testing.BlockedStatus(
        "shop-currency must be EUR, USD or GBP, not 'xyz'"
    )
    assert library.flask_env(out)["SHOP_CURRENCY"] == "EUR"


def test_an_event_that_changes_nothing_writes_nothing(make_ctx, state, workload):
    ctx = make_ctx()
    out = ctx.run(ctx.on.config_changed(), state)
    (workload.app_dir / "shop.conf").unlink()

    ctx.run(ctx.on.update_status(), out)

    assert not (workload.app_dir / "shop.conf").exists()


# The action.


def test_shop_info_gets_the_reconciles_state_and_hides_the_key(make_ctx, state):
    ctx = make_ctx()

    ctx.run(ctx.on.action("shop-info"), state)

    assert ctx.action_results == {"unit": "shop/0", "payments": "False", "key": "***"}


def test_shop_info_that_refuses_fails_with_its_message(make_ctx, state):
    ctx = make_ctx()

    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(ctx.on.action("shop-info", params={"fail": True}), state)

    assert failed.value.message == "the shop is closed"


def test_shop_info_with_bad_config_fails_saying_what_to_fix(make_ctx, state):
    ctx = make_ctx()

    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(
            ctx.on.action("shop-info"), dataclasses.replace(state, config={"webserver-workers": 0})
        )

    assert failed.value.message.startswith("invalid config: webserver-workers")


def test_the_migrate_action_runs_with_the_shops_variables_as_a_reconcile_would(
    make_ctx, state, workload
):
    workload.add_app_file("migrate.sh", "flask db upgrade\n")
    migrate_sh = testing.Exec(("bash", "-eo", "pipefail", "migrate.sh"))
    with_script = dataclasses.replace(state, containers={workload.container(execs=[migrate_sh])})
    ctx = make_ctx()

    ctx.run(ctx.on.action("migrate"), with_script)

    runs = [run for run in ctx.exec_history["flask-app"] if run.command[-1:] == ["migrate.sh"]]
    # Once, with the shop's variables: the reconcile after the action computes the same
    # environment, so it does not migrate again.
    assert len(runs) == 1
    assert runs[0].environment["SHOP_UNIT"] == "shop/0"


# Metadata the library needs.


def test_metadata_without_the_peer_relation_is_named_instead_of_a_hook_error(make_ctx, state):
    meta = conftest.metadata()
    meta["peers"] = {}
    ctx = make_ctx(meta)

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, relations=set()))

    assert out.unit_status == testing.BlockedStatus(
        "charm metadata: no peer relation 'secret-storage' (peers:), where the secret key and "
        "the migration records are kept"
    )


def test_metadata_without_the_container_is_named_instead_of_a_hook_error(make_ctx, state):
    meta = conftest.metadata()
    meta["containers"], meta["resources"] = {}, {}
    ctx = make_ctx(meta)

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, containers=set()))

    assert out.unit_status == testing.BlockedStatus(
        "charm metadata: no container 'flask-app' (containers:)"
    )


def test_metadata_without_the_payments_endpoint_is_named(make_ctx, state):
    meta = copy.deepcopy(conftest.metadata())
    del meta["requires"]["payments"]
    ctx = make_ctx(meta)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "charm metadata: requirers for undeclared endpoints: payments (requires:)"
    )
