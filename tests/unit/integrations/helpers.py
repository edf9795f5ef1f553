"""What the integration tests share: a secret reader and a look at the app's environment."""

from __future__ import annotations

import collections.abc

from ops import testing

from flask_k8s.integrations import relation


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
    """The environment the charm gave the flask service."""
    return dict(out.get_container("flask-app").plan.services["flask"].environment)
