"""Fixtures for the charm-level integration tests."""

from __future__ import annotations

import collections.abc
import dataclasses

import pytest
from ops import testing


@pytest.fixture
def charm_state(state: testing.State) -> collections.abc.Callable[..., testing.State]:
    """The ready charm's state with these relations and secrets added."""

    def make(
        *relations: testing.RelationBase, secrets: collections.abc.Iterable[testing.Secret] = ()
    ) -> testing.State:
        return dataclasses.replace(
            state, relations={*state.relations, *relations}, secrets={*state.secrets, *secrets}
        )

    return make
