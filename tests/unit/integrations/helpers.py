"""What the integration tests share: a secret reader, a look at the app's environment, and
a provider's answer through the charm."""

from __future__ import annotations

import collections.abc
import dataclasses
import typing

from ops import testing

from flask_k8s._interfaces import common as relation
from tests.unit import conftest


def reader(
    secrets: collections.abc.Mapping[str, collections.abc.Mapping[str, str]],
) -> relation.SecretReader:
    """Reads ``secrets`` by URI; any other URI is unreadable, as a revoked secret is."""

    def read(uri: str) -> collections.abc.Mapping[str, str]:
        if uri not in secrets:
            raise relation.SecretUnavailable(uri)
        return secrets[uri]

    return read


def flask_env(out: testing.State) -> dict[str, str]:
    """The environment the charm gave the app: its settings file (empty without one)."""
    return conftest.flask_env(out)


class Answer(typing.Protocol):
    """A provider model's answer: its application bag and the secrets it names."""

    @property
    def app(self) -> collections.abc.Mapping[str, str]:
        """The provider's application bag."""
        ...

    @property
    def secrets(self) -> collections.abc.Mapping[str, collections.abc.Mapping[str, str]]:
        """The content of each secret the bag names, by URI."""
        ...


def answer_through_charm(
    ctx: testing.Context,
    charm_state: collections.abc.Callable[..., testing.State],
    related: testing.Relation,
    answer: Answer,
) -> testing.State:
    """The charm's hook once the provider has answered ``answer`` on ``related``."""
    secrets = [
        testing.Secret(dict(content), id=uri, owner=None)
        for uri, content in answer.secrets.items()
    ]
    answered = dataclasses.replace(related, remote_app_data=dict(answer.app))
    return ctx.run(
        ctx.on.relation_changed(answered, remote_unit=0), charm_state(answered, secrets=secrets)
    )
