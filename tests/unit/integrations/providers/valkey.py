"""A model of valkey-k8s answering a data_interfaces v0 request (relation-interfaces.md §5).

The request's ``database`` (the key prefix) triggers the answer; fields listed in
``requested-secrets`` go into provider-owned secrets, the rest in plain text.
"""

from __future__ import annotations

import collections.abc
import json

USER_SECRET = "secret:valkey-user-0001"
TLS_SECRET = "secret:valkey-tls-0001"
CA = "-----BEGIN CERTIFICATE-----\nMIIBvalkeyCA\n-----END CERTIFICATE-----"


def answer(
    request: collections.abc.Mapping[str, str],
    *,
    password: str = "valkey-Pw-7xQ2",
    tls: bool = False,
    sentinel_field: str = "sentinel-endpoints",
) -> tuple[dict[str, str], dict[int, dict[str, str]], dict[str, dict[str, str]]]:
    """The provider's app bag, unit bags (none) and the secrets it created, by URI."""
    if not request.get("database"):
        return {}, {}, {}
    requested = set(json.loads(request.get("requested-secrets") or "[]"))
    app = {
        "database": request["database"],
        "resource": request["database"],
        "endpoints": "valkey-0.valkey-endpoints:6379",
        "read-only-endpoints": "valkey-1.valkey-endpoints:6379,valkey-2.valkey-endpoints:6379",
        sentinel_field: ",".join(f"valkey-{n}.valkey-endpoints:26379" for n in range(3)),
        "mode": "sentinel",
        "version": "9.0.1",
    }
    user = {"username": "relation-7", "password": password}
    tls_fields = {"tls": "true", "tls-ca": CA} if tls else {"tls": "false"}
    secrets: dict[str, dict[str, str]] = {}
    if "username" in requested:
        secrets[USER_SECRET] = user
        app["secret-user"] = USER_SECRET
    else:
        app.update(user)
    if "tls" in requested:
        secrets[TLS_SECRET] = tls_fields
        app["secret-tls"] = TLS_SECRET
    else:
        app.update(tls_fields)
    return app, {}, secrets
