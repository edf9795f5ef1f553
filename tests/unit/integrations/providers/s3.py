"""A model of s3-integrator 1 (s3 v0) and 2 (s3 v1) answering (relation-interfaces.md §7).

v0 answers a ``bucket`` request with everything in plain text. v1 writes ``lib-version``
at once; given ``requested-secrets`` it puts the keys in a secret named by
``secret-extra``, given a v0 request it ignores the bucket asked for and answers in plain
text. s3-integrator answers with its configured bucket when it has one.
"""

from __future__ import annotations

import collections.abc
import json

KEYS_SECRET = "secret:s3-extra-0001"
ACCESS_KEY = "AKIAEXAMPLE7Q2"
SECRET_KEY = "s3cr3t/Key+with@odd:chars? #%"
SETTINGS = {
    "endpoint": "https://s3.example.com",
    "region": "eu-west-1",
    "path": "uploads/",
    "s3-uri-style": "host",
    "s3-api-version": "4",
    "storage-class": "STANDARD",
    "tls-ca-chain": json.dumps(
        ["-----BEGIN CERTIFICATE-----\nMIIBs3CA\n-----END CERTIFICATE-----"]
    ),
}


def answer(
    request: collections.abc.Mapping[str, str],
    *,
    version: int = 1,
    configured_bucket: str | None = None,
) -> tuple[dict[str, str], dict[int, dict[str, str]], dict[str, dict[str, str]]]:
    """The provider's app bag, unit bags (none) and the secrets it created, by URI."""
    app = {"lib-version": "1.0"} if version == 1 else {}
    if not request.get("bucket"):
        return app, {}, {}
    v1_request = version == 1 and "requested-secrets" in request
    if version == 1 and not v1_request:
        configured_bucket = configured_bucket or "configured-bucket"
    app.update(SETTINGS, bucket=configured_bucket or request["bucket"])
    keys = {"access-key": ACCESS_KEY, "secret-key": SECRET_KEY}
    if v1_request:
        app["secret-extra"] = KEYS_SECRET
        return app, {}, {KEYS_SECRET: keys}
    app.update(keys)
    return app, {}, {}
