"""s3: s3-integrator 1 (the v0 protocol) and 2 (v1), with one request that both answer.

We send the v1 request: a bucket named after the application, the keys as secrets and
``lib-version``. A v1 provider puts ``access-key`` and ``secret-key`` in the secret named
by ``secret-extra``; a v0 provider (or a v1 one given a v0 request) writes them in plain
text. So plain fields are read first and the secret overlaid. Providers may answer with
another bucket than the one asked for (s3-integrator uses its configured one): the
provider's ``bucket`` is the one used.

Every value is text, even when it looks like a number (``s3-api-version: "4"``, which
paas-charm rejects); ``tls-ca-chain`` and ``attributes`` are JSON lists of strings, each
exported on its own (paas-charm drops the chain without attributes).
"""

from __future__ import annotations

import json

from . import common

REQUEST_SECRETS = ["access-key", "secret-key"]
LIB_VERSION = "1.0"
# Provider field -> variable, each exported only when the provider sent it.
TEXT_FIELDS = {
    "access-key": "S3_ACCESS_KEY",
    "region": "S3_REGION",
    "storage-class": "S3_STORAGE_CLASS",
    "bucket": "S3_BUCKET",
    "endpoint": "S3_ENDPOINT",
    "path": "S3_PATH",
    "s3-api-version": "S3_API_VERSION",
    "s3-uri-style": "S3_URI_STYLE",
}
LIST_FIELDS = {"attributes": "S3_ATTRIBUTES", "tls-ca-chain": "S3_TLS_CA_CHAIN"}
REQUIRED = {"access-key": "S3_ACCESS_KEY", "secret-key": "S3_SECRET_KEY", "bucket": "S3_BUCKET"}


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """A bucket named after the application, the keys as secrets (the v1 request)."""
    return {
        "bucket": context.app_name,
        "requested-secrets": json.dumps(REQUEST_SECRETS),
        "lib-version": LIB_VERSION,
    }


def _string_list(bag: common.Bag, field: str) -> list[str] | None:
    """A JSON list of strings, or None if absent."""
    value = common.json_field(bag, field, list)
    if value is not None and not all(isinstance(item, str) for item in value):
        raise common.InvalidData(f"{field} must be a JSON list of strings")
    return value


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``S3_*`` from the provider's answer, each variable only when its field was sent."""
    # Not every "secret-" key is a secret URI: v0 sends "secret-key" in plain text.
    bag = {key: value for key, value in data.app.items() if key != "secret-extra"}
    bag.update(common.read_secret_field(data.app, "secret-extra", read_secret))
    secret_key = bag.get("secret-key")
    if secret_key is not None and not common.is_text(secret_key):
        raise common.InvalidData("secret-key is not text")
    env = {
        variable: value
        for field, variable in TEXT_FIELDS.items()
        if (value := common.text_field(bag, field))
    }
    if secret_key:  # As sent: a secret is not stripped.
        env["S3_SECRET_KEY"] = secret_key
    missing = [field for field, variable in REQUIRED.items() if variable not in env]
    if missing:
        raise common.NotReady(f"waiting for the provider to send {', '.join(missing)}")
    if "S3_URI_STYLE" in env:
        uri_style = env["S3_URI_STYLE"]
        env["S3_ADDRESSING_STYLE"] = "virtual" if uri_style == "host" else uri_style
    for field, variable in LIST_FIELDS.items():
        items = _string_list(bag, field)
        if items is not None:
            env[variable] = json.dumps(items)
    return env
