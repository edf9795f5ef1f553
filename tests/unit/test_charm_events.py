"""Which events the charm observes: in a hook, only the one Juju dispatched."""

from __future__ import annotations

import dataclasses
import types

import ops
import pytest
from ops import testing

from flask_k8s import _charm as library_charm


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The event kinds the charm hands to its reconcile, as it observes them."""
    kinds: list[str] = []
    original = ops.Framework.observe

    def spy(self, bound_event, observer):
        if getattr(observer, "__name__", "") == "_on_event":
            kinds.append(bound_event.event_kind)
        return original(self, bound_event, observer)

    monkeypatch.setattr(ops.Framework, "observe", spy)
    return kinds


def test_a_hook_observes_only_the_event_juju_dispatched(ctx, state, observed):
    out = ctx.run(ctx.on.config_changed(), state)

    assert observed == ["config_changed"]
    assert out.unit_status == ops.ActiveStatus()


def test_a_relation_hook_observes_its_endpoints_event(ctx, state, observed):
    rel = testing.Relation("http-proxy", remote_app_name="squid")
    ctx.run(
        ctx.on.relation_changed(rel), dataclasses.replace(state, relations={*state.relations, rel})
    )

    assert observed == ["http_proxy_relation_changed"]


def test_an_action_observes_no_reconcile_event(ctx, state, observed):
    ctx.run(ctx.on.action("rotate-secret-key"), state)

    assert observed == []


def test_without_a_dispatch_path_every_event_is_observed(monkeypatch):
    events = [types.SimpleNamespace(event_kind=kind) for kind in ("install", "config_changed")]
    monkeypatch.delenv("JUJU_DISPATCH_PATH", raising=False)
    assert library_charm._dispatched(events) == events  # pyright: ignore[reportArgumentType, reportPrivateUsage]
    monkeypatch.setenv("JUJU_DISPATCH_PATH", "hooks/install")
    assert library_charm._dispatched(events) == events[:1]  # pyright: ignore[reportArgumentType, reportPrivateUsage]
