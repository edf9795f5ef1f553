"""A model of the data_interfaces v0 provider side, written from the protocol's facts.

Given what a requirer wrote in its application databag, it answers the way today's
postgresql-k8s, mysql-k8s and MongoDB providers do: the database it created, its endpoints,
and the credentials in a Juju secret (in plain text when the requirer asked for no secrets).
With ``uris_only`` it answers with a connection URI alone (no endpoints, no separate
username and password), which the protocol allows and paas-charm uses.
"""

from __future__ import annotations

import json

from tests.unit.integrations.providers import common

Answer = common.Answer


def answer(
    kind: str,
    request: dict[str, str],
    *,
    username: str = "relation-7",
    password: str = "Zx81pw",
    subordinated: bool = False,
    uris_only: bool = False,
) -> Answer | None:
    """The provider's answer to ``request``, or None: without ``database`` it does nothing."""
    database = request.get("database")
    if not database:
        return None
    requested = set(json.loads(request.get("requested-secrets", "[]")))
    user: dict[str, str] = {"username": username, "password": password}
    if kind == "postgresql":
        endpoints = "postgresql-k8s-primary.m.svc.cluster.local:5432"
        version = "16.9"
        if "uris" in requested:
            user["uris"] = f"postgresql://{username}:{password}@{endpoints}/{database}"
    elif kind == "mysql":
        endpoints = "mysql-k8s-primary.m.svc.cluster.local.:3306"  # With the trailing dot.
        version = "8.0.41"
    else:
        endpoints = "mongo-0.mongo:27017,mongo-1.mongo:27017"
        version = "6.0.6"
        user["uris"] = (
            f"mongodb://{username}:{password}@{endpoints}/{database}"
            "?replicaSet=mongo&authSource=admin"
        )
    app = {"database": database, "endpoints": endpoints, "version": version}
    if uris_only:
        # The provider's URI, credentials as it writes them (raw), and nothing to build one from.
        uri = user.get("uris") or f"{kind}://{username}:{password}@{endpoints}/{database}"
        user = {"uris": uri}
        del app["endpoints"]
    secrets: dict[str, dict[str, str]] = {}
    if {"username", "password"} <= requested:
        secrets["secret:user0000000000000001"] = user
        secrets["secret:tls00000000000000001"] = {"tls": "False"}
        app["secret-user"] = "secret:user0000000000000001"
        app["secret-tls"] = "secret:tls00000000000000001"
    else:
        app.update(user)
    units: dict[str, dict[str, str]] = {}
    if subordinated:
        app["subordinated"] = "true"
        units["router/0"] = {"state": "ready"}
    return Answer(app=app, secrets=secrets, units=units)
