"""postgresql_client, mysql_client and mongodb_client: the data_interfaces v0 protocol.

Today's postgresql-k8s, mysql-k8s and MongoDB providers answer only v0 requests: the
requirer's application databag names the database and asks for the credentials as Juju
secrets. The provider answers in its application databag (``endpoints``, ``database``, ...)
with the credentials in the secret named by ``secret-user`` (``username``, ``password`` and,
for PostgreSQL and MongoDB, ``uris``) and TLS in ``secret-tls``. Without secrets, the same
fields come in plain text; plain fields are read first and secret contents overlaid.

As in paas-charm, for every database: the provider's ``uris`` is the URL whenever it is
sent, with or without ``endpoints`` and credentials; otherwise the URL is built from
``endpoints``, ``username`` and ``password``, and is waited for until all three are sent.

Variables: ``<ENDPOINT>_DB_CONNECT_STRING`` and its parts (``urls.variables``), e.g.
``POSTGRESQL_DB_CONNECT_STRING`` for the ``postgresql`` endpoint.
"""

from __future__ import annotations

import json
import urllib.parse

from . import common, urls

SCHEMES = {
    "postgresql_client": "postgresql",
    "mysql_client": "mysql",
    "mongodb_client": "mongodb",
    "valkey_client": "valkey",
}
REQUESTED_SECRETS = ["username", "password", "tls", "tls-ca", "uris", "read-only-uris"]
SECRET_FIELDS = ("secret-user", "secret-tls", "secret-extra")


def prefix(context: common.Context) -> str:
    """``POSTGRESQL_DB`` for the endpoint ``postgresql``."""
    return context.endpoint.upper().replace("-", "_") + "_DB"


def database_name(context: common.Context) -> str:
    """The database requested: the application's name."""
    return context.app_name


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """Ask for a database named after the application, credentials as secrets."""
    return {
        "database": database_name(context),
        "requested-secrets": json.dumps(REQUESTED_SECRETS),
    }


def answer(data: common.RemoteData, read_secret: common.SecretReader) -> dict[str, str]:
    """The provider's answer: plain fields, overlaid with the requested secret fields.

    Waits while a subordinate provider (mysql-router, pgbouncer) has no ready unit.
    """
    bag = {
        key: value
        for key, value in data.app.items()
        if common.is_text(value) and not key.startswith("secret-")
    }
    for field in SECRET_FIELDS:
        content = common.read_secret_field(data.app, field, read_secret)
        # Only the fields we asked to be secret: other keys of a secret are not expected, and
        # a secret's value must not stand in for a plain field that messages quote.
        bag.update((key, value) for key, value in content.items() if key in REQUESTED_SECRETS)
    if data.app.get("subordinated") == "true" and not any(
        unit.get("state") == "ready" for unit in data.units.values()
    ):
        raise common.NotReady("waiting for the provider's units to be ready")
    return bag


def credentials(bag: common.Bag) -> tuple[list[str], str, str]:
    """Endpoints, username and password, or NotReady until the provider sent them all."""
    endpoints_text = common.text_field(bag, "endpoints")
    # Credentials are used exactly as sent: stripping would no longer match the provider's URI.
    username = bag.get("username")
    password = bag.get("password")
    if not endpoints_text or not username or not username.strip() or not password:
        raise common.NotReady("waiting for the provider to send endpoints and credentials")
    endpoints = [item.strip() for item in endpoints_text.split(",") if item.strip()]
    for endpoint in endpoints:
        urls.split_host(endpoint)  # Raises InvalidData for a malformed endpoint.
    return endpoints, username, password


def provided_url(bag: common.Bag, uris: str) -> str:
    """The provider's ``uris``, its raw credentials percent-encoded when they are known.

    Messages name the field and never quote it: the URI holds the password.
    """
    url = urls.reencode_userinfo(uris, bag.get("username"), bag.get("password"))
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise common.InvalidData("uris is not a valid URI") from None
    if not parts.scheme or not parts.netloc.rpartition("@")[2]:
        raise common.InvalidData("uris has no scheme or no host")
    return url


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``<ENDPOINT>_DB_*`` from the provider's answer."""
    bag = answer(data, read_secret)
    uris = common.text_field(bag, "uris")
    if uris:
        # The provider's URI carries what we can't rebuild (replicaSet, authSource, ...).
        url = provided_url(bag, uris)
        # The database the provider created, else the one the URI names, as in paas-charm.
        database = common.text_field(bag, "database")
        try:
            return urls.variables(prefix(context), url, database=database)
        except common.InvalidData:
            # A password with a raw "#" or "/" ends the netloc early: quote no part of it.
            raise common.InvalidData("uris has an invalid host or port") from None
    endpoints, username, password = credentials(bag)
    database = common.text_field(bag, "database") or database_name(context)
    scheme = SCHEMES[context.interface]
    hosts = endpoints if scheme == "mongodb" else endpoints[:1]
    url = urls.build(scheme, hosts, username=username, password=password, path=database)
    return urls.variables(prefix(context), url, database=database)
