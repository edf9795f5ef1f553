"""A charm built on the library: its own variables, steps around a change, and actions."""

from __future__ import annotations

import copy
import dataclasses
import pathlib
import typing

import ops
import yaml
from ops import testing

import flask_k8s.charm
from flask_k8s import state, status
from tests.unit import conftest

META = yaml.safe_load((conftest.CHARM_ROOT / "charmcraft.yaml").read_text())
SETTINGS = pathlib.PurePosixPath("/dev/shm/flask-k8s/environment.json")
# What the hooks saw, in order: (hook, the token in the settings file then).
SEEN: list[tuple[str, str | None]] = []


def _settings_token(container: ops.Container) -> str | None:
    try:
        text = container.pull(str(SETTINGS)).read()
    except ops.pebble.PathError:
        return None
    return yaml.safe_load(text)["environment"].get("FLASK_TOKEN")


class ShopCharm(flask_k8s.charm.FlaskCharm):
    extra: typing.ClassVar[dict[str, str]] = {}

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        framework.observe(self.on.shop_info_action, self._on_shop_info)

    def extra_environment(self, charm_state: state.CharmState) -> dict[str, str]:
        return {"SHOP_UNIT": charm_state.unit_name, **self.extra}

    def before_settings(self, container: ops.Container, charm_state: state.CharmState) -> None:
        SEEN.append(("before", _settings_token(container)))
        if charm_state.user_env.get("FLASK_TOKEN") == "refused":
            raise status.Blocked("the shop refuses this token")

    def after_settings(self, container: ops.Container, charm_state: state.CharmState) -> None:
        SEEN.append(("after", _settings_token(container)))

    def _on_shop_info(self, event: ops.ActionEvent) -> None:
        def info(container: ops.Container, charm_state: state.CharmState) -> dict[str, object]:
            if event.params.get("fail"):
                raise status.Blocked("the shop is closed")
            return {
                "unit": charm_state.unit_name,
                "can-connect": container.can_connect(),
                "key": charm_state.secret_key,
            }

        self.run_action(event, info)


def _ctx() -> testing.Context:
    meta = copy.deepcopy(META)
    meta.setdefault("actions", {})["shop-info"] = {
        "params": {"fail": {"type": "boolean", "default": False}}
    }
    return testing.Context(ShopCharm, meta=meta)


def test_the_charms_own_variables_reach_the_app(state):
    out = _ctx().run(_ctx().on.config_changed(), state)

    assert conftest.flask_env(out)["SHOP_UNIT"] == "flask-k8s/0"


def test_an_own_variable_that_would_replace_another_is_refused(state, monkeypatch):
    monkeypatch.setattr(ShopCharm, "extra", {"FLASK_SECRET_KEY": "mine", "bad name": "x"})

    out = _ctx().run(_ctx().on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "extra_environment: FLASK_SECRET_KEY is set already (by flask-k8s, an option or an "
        "integration); 'bad name' is not a variable name with a text value"
    )


def test_the_steps_run_around_a_change_before_and_after_the_app_gets_it(state):
    SEEN.clear()
    ctx = _ctx()
    first = dataclasses.replace(state, config={"token": "one"})
    out = ctx.run(ctx.on.config_changed(), first)
    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(out, config={"token": "two"}))

    assert SEEN == [("before", None), ("after", "one"), ("before", "one"), ("after", "two")]


def test_an_event_that_changes_nothing_runs_no_step(state):
    ctx = _ctx()
    out = ctx.run(ctx.on.config_changed(), state)
    SEEN.clear()

    ctx.run(ctx.on.update_status(), out)

    assert SEEN == []


def test_a_step_that_refuses_blocks_and_the_app_keeps_its_settings(state):
    ctx = _ctx()
    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(state, config={"token": "one"}))

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(out, config={"token": "refused"}))

    assert out.unit_status == testing.BlockedStatus("the shop refuses this token")
    assert conftest.flask_env(out)["FLASK_TOKEN"] == "one"


def test_an_action_gets_the_reconciles_state_and_its_results_are_redacted(state):
    ctx = _ctx()

    ctx.run(ctx.on.action("shop-info"), state)

    assert ctx.action_results == {"unit": "flask-k8s/0", "can-connect": "True", "key": "***"}


def test_an_action_whose_step_refuses_fails_with_the_message(state):
    ctx = _ctx()

    try:
        ctx.run(ctx.on.action("shop-info", params={"fail": True}), state)
    except testing.ActionFailed as failed:
        assert failed.message == "the shop is closed"
    else:
        raise AssertionError("the action did not fail")


def test_an_action_with_bad_config_fails_saying_what_to_fix(state):
    ctx = _ctx()
    bad = dataclasses.replace(state, config={"webserver-workers": 0})

    try:
        ctx.run(ctx.on.action("shop-info"), bad)
    except testing.ActionFailed as failed:
        assert failed.message.startswith("invalid config: webserver-workers")
    else:
        raise AssertionError("the action did not fail")
