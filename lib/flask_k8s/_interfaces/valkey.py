"""valkey_client: valkey-k8s, through the data_interfaces v0 request it still answers.

We ask for the key prefix ``*`` (every key, as paas-charm does) with the credentials as
secrets; the answer is read like a database's (``database.answer``): ``endpoints``
(the primary), ``read-only-endpoints``, ``sentinel-endpoints``, ``mode``, ``version``,
``secret-user`` (``username``, ``password``) and ``secret-tls`` (``tls``, ``tls-ca``).

Choices:

- The scheme is ``valkey://``, as in paas-charm, so apps written for it keep working, and
  ``valkeys://`` when the provider says ``tls`` is true, where paas-charm refuses to run.
  valkey-py reads both; credentials are percent-encoded, so any password works.
- The URL names the primary only; replicas and sentinels get their own variables. An
  endpoint written with a scheme in front (``valkey://host:6379``) is taken without it.
- The library writes ``sentinel-endpoints``, the spec's example ``sentinel_endpoints``:
  both are read.
- ``_READ_ONLY_ENDPOINTS``, ``_SENTINEL_ENDPOINTS``, ``_MODE`` and ``_VERSION`` are always
  set, empty when the provider sent nothing, as paas-charm sets them; the mode and version
  also under paas-charm's names (``VALKEY_MODE``, ``VALKEY_VERSION``) and the ones its docs
  give (``VALKEY_DB_MODE``, ``VALKEY_DB_VERSION``). ``VALKEY_DB_TLS_CA`` only when sent.
"""

from __future__ import annotations

import json

from . import common, database, urls

REQUESTED_SECRETS = ["username", "password", "tls", "tls-ca"]


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """Ask for every key (``*``), credentials and TLS as secrets."""
    return {"database": "*", "requested-secrets": json.dumps(REQUESTED_SECRETS)}


def _endpoints(bag: common.Bag, field: str) -> list[str]:
    """The ``host:port`` items of a comma list, each checked."""
    endpoints: list[str] = []
    for item in (common.text_field(bag, field) or "").split(","):
        endpoint = item.strip().rpartition("://")[2]
        if endpoint:
            urls.split_host(endpoint)  # Raises InvalidData for a malformed endpoint.
            endpoints.append(endpoint)
    return endpoints


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``<ENDPOINT>_DB_*`` from the provider's answer, and paas-charm's extra names."""
    bag = database.answer(data, read_secret)
    _, username, password = database.credentials(bag)  # NotReady until all are sent.
    primary = _endpoints(bag, "endpoints")
    if not primary:
        raise common.InvalidData("endpoints holds no host:port")
    tls = (common.text_field(bag, "tls") or "false").lower()
    if tls not in ("true", "false"):
        raise common.InvalidData("tls is neither true nor false")
    scheme = "valkeys" if tls == "true" else "valkey"
    url = urls.build(scheme, primary[:1], username=username, password=password)
    prefix = database.prefix(context)
    env = urls.variables(prefix, url)
    sentinels = "sentinel-endpoints" if "sentinel-endpoints" in bag else "sentinel_endpoints"
    env[f"{prefix}_READ_ONLY_ENDPOINTS"] = ",".join(_endpoints(bag, "read-only-endpoints"))
    env[f"{prefix}_SENTINEL_ENDPOINTS"] = ",".join(_endpoints(bag, sentinels))
    compat_prefix = prefix.removesuffix("_DB")
    for field in ("mode", "version"):
        value = common.text_field(bag, field) or ""
        env[f"{prefix}_{field.upper()}"] = value
        env[f"{compat_prefix}_{field.upper()}"] = value
    tls_ca = common.text_field(bag, "tls-ca")
    if tls_ca:
        env[f"{prefix}_TLS_CA"] = tls_ca
    return env
