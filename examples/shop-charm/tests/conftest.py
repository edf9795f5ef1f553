"""The library's own test fixtures (the rock's container, the peer relation, the key)."""

from __future__ import annotations

import copy
import importlib.util
import pathlib
import sys
import types
import typing

import pytest
import yaml
from ops import testing

from tests.unit.conftest import key_secret, peers, state, workload

__all__ = ["key_secret", "peers", "state", "workload"]

EXAMPLE = pathlib.Path(__file__).resolve().parents[1]
ROOT = EXAMPLE.parents[1]


def _load_charm() -> types.ModuleType:
    """src/charm.py as the module ``shop_charm`` (flask-k8s's own is ``charm``)."""
    spec = importlib.util.spec_from_file_location("shop_charm", EXAMPLE / "src" / "charm.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["shop_charm"] = module
    spec.loader.exec_module(module)
    return module


shop_charm = _load_charm()


def metadata() -> dict[str, typing.Any]:
    """The shop's metadata as charmcraft packs it: flask-framework's, then the shop's own.

    flask-k8s's charmcraft.yaml is what the extension expands to; the shop's file adds to it.
    """
    meta = copy.deepcopy(yaml.safe_load((ROOT / "charmcraft.yaml").read_text()))
    own = yaml.safe_load((EXAMPLE / "charmcraft.yaml").read_text())
    meta["name"] = own["name"]
    meta.setdefault("requires", {}).update(own["requires"])
    meta["config"]["options"].update(own["config"]["options"])
    meta.setdefault("actions", {}).update(own["actions"])
    return meta


@pytest.fixture
def make_ctx() -> typing.Callable[..., testing.Context]:
    def make(meta: dict[str, typing.Any] | None = None) -> testing.Context:
        return testing.Context(shop_charm.ShopCharm, meta=meta or metadata(), charm_root=EXAMPLE)

    return make
