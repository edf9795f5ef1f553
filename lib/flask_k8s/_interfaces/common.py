"""What every integration module works from: a snapshot of one relation, plain data.

The charm reads the databags once into a ``RemoteData``; secrets are read through a
callable, so the modules stay pure and can be fed anything in tests.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import pathlib
import re
import typing
import urllib.parse

from .. import _record, _status


class NotReady(Exception):
    """The provider has not answered yet (or not completely): wait."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidData(Exception):
    """The provider's answer cannot be used: the user must look at it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SecretUnavailable(Exception):
    """A secret named in a databag cannot be read (unknown, revoked or not granted)."""


SecretReader = collections.abc.Callable[[str], collections.abc.Mapping[str, str]]
Bag = collections.abc.Mapping[str, str]


class Context(_record.Record):
    """What an integration may need besides the relation: who we are and our settings."""

    endpoint: str
    interface: str
    app_name: str
    model_name: str = ""
    env_prefix: str = "FLASK_"
    config: collections.abc.Mapping[str, typing.Any] = dataclasses.field(
        default_factory=dict[str, typing.Any]
    )
    base_url: str = ""
    # The app's URL from the ingress integration, when there is one (base_url is then it).
    external_url: str | None = None
    port: int = 8000
    # The Juju topology, for integrations that label what they send (tracing, logs).
    unit_name: str = ""
    model_uuid: str = ""
    charm_name: str = ""
    # This unit's address on the relation's network, for integrations that publish it.
    unit_host: str = ""
    unit_ip: str | None = None
    # The charm's directory, for integrations that send the charm author's files (rules).
    charm_dir: pathlib.Path | None = None

    @property
    def topology(self) -> dict[str, str]:
        """Juju topology labels, as COS names them."""
        return {
            "juju_model": self.model_name,
            "juju_model_uuid": self.model_uuid,
            "juju_application": self.app_name,
            "juju_unit": self.unit_name,
            "juju_charm": self.charm_name,
        }


class RemoteData(_record.Record):
    """One relation's databags, as the charm read them."""

    relation_id: int
    app: Bag = dataclasses.field(default_factory=dict[str, str])
    units: collections.abc.Mapping[str, Bag] = dataclasses.field(default_factory=dict[str, Bag])
    local_app: Bag = dataclasses.field(default_factory=dict[str, str])
    remote_app_name: str | None = None


# Fields that hold a credential in a provider's databag, when it sends one in plain text
# (without Juju secrets): database and valkey logins and URIs, RabbitMQ's and SMTP's password,
# OpenFGA's token, S3's keys. Their values are hidden wherever the charm writes for people.
CREDENTIAL_FIELDS = frozenset(
    {
        "username",
        "password",
        "user",
        "uris",
        "read-only-uris",
        "token",
        "access-key",
        "secret-key",
        "client_secret",
    }
)
# The variables that carry a credential, by the end of their name.
CREDENTIAL_VARIABLES = (
    "_USERNAME",
    "_PASSWORD",
    "_USER",
    "_TOKEN",
    "_ACCESS_KEY",
    "_SECRET_KEY",
    "_CLIENT_SECRET",
)


def is_text(value: object) -> typing.TypeGuard[str]:
    """Whether a bag's value is text: Juju's are, but a bag may come from anywhere."""
    return isinstance(value, str)


def is_json_object(value: object) -> typing.TypeGuard[dict[str, object]]:
    """Whether a value ``json.loads`` gave is an object (its keys are strings)."""
    return isinstance(value, dict)


def credentials(data: RemoteData) -> list[str]:
    """Every credential the provider's bags hold in plain text, as sent and as decoded.

    A value may be JSON-encoded (S3's v0 answers) and a URI carries its login: both the
    value and what the charm would make of it are returned.
    """
    found: list[str] = []
    for bag in (data.app, *data.units.values()):
        for field in CREDENTIAL_FIELDS.intersection(bag):
            value = bag[field]
            if not is_text(value) or not value:
                continue
            found.append(value)
            found.extend(_status.url_credentials(value))
            try:
                decoded = json.loads(value)
            except (ValueError, RecursionError):
                continue
            if isinstance(decoded, str):
                found.append(decoded)
    return found


def credential_variables(env: collections.abc.Mapping[str, str]) -> list[str]:
    """The values of the variables that carry a credential (``POSTGRESQL_DB_PASSWORD``...)."""
    return [value for name, value in env.items() if name.endswith(CREDENTIAL_VARIABLES)]


def port_number(text: str) -> int | None:
    """``text`` as a TCP port (1 to 65535), or None; never parses a number past 5 digits."""
    if len(text) > 5 or not (text.isascii() and text.isdigit()):
        return None
    port = int(text)
    return port if 0 < port < 65536 else None


def read_secret_field(
    data: Bag, field: str, read_secret: SecretReader
) -> collections.abc.Mapping[str, str]:
    """The content of the secret whose URI is in ``field``, or {} if the field is absent."""
    uri = data.get(field)
    if not uri:
        return {}
    if not is_text(uri):
        raise InvalidData(f"{field} is not a secret URI")
    try:
        content = read_secret(uri)
    except SecretUnavailable:
        raise InvalidData(
            f"the secret in {field} cannot be read (unknown, revoked or not granted)"
        ) from None
    # A reader promises a mapping; what it gives is checked all the same.
    if not isinstance(typing.cast("object", content), collections.abc.Mapping):
        raise InvalidData(f"the secret in {field} has no content")
    return {str(key): str(value) for key, value in content.items()}


def json_field(data: Bag, field: str, kind: type, default: typing.Any = None) -> typing.Any:
    """A JSON-encoded field of a databag, checked to be of ``kind``; default if absent."""
    raw = data.get(field)
    if raw is None or raw == "":
        return default
    try:
        value = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        raise InvalidData(f"{field} is not valid JSON") from None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidData(f"{field} must be a JSON {kind.__name__}")
    return value


def text_field(data: Bag, field: str) -> str | None:
    """A plain text field, stripped; None if absent or empty."""
    value = data.get(field)
    if value is None:
        return None
    if not is_text(value):
        raise InvalidData(f"{field} is not text")
    return value.strip() or None


_HOST = re.compile(r"[A-Za-z0-9_.:-]+")


def host_field(bag: Bag, field: str) -> str | None:
    """A host name or IP address from ``field``, None if absent; InvalidData otherwise."""
    value = text_field(bag, field)
    if value is not None and not _HOST.fullmatch(value):
        raise InvalidData(f"{field} {value!r} is not a host name or IP address")
    return value


def is_http_url(value: object) -> bool:
    """Whether ``value`` is an absolute http(s) URL."""
    if not isinstance(value, str):
        return False
    try:
        parsed = urllib.parse.urlsplit(value)
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def url_field(bag: Bag, field: str) -> str | None:
    """An http(s) URL from ``field``, None if absent; InvalidData if it is something else."""
    value = text_field(bag, field)
    if value is not None and not is_http_url(value):
        raise InvalidData(f"{field} is not an http(s) URL")
    return value


def units_in_order(units: collections.abc.Mapping[str, Bag]) -> list[Bag]:
    """The unit bags by unit number, so every unit of ours picks the same one."""

    def number(name: str) -> tuple[float, str]:
        suffix = name.rpartition("/")[2]
        number = suffix.isascii() and suffix.isdigit() and len(suffix) < 10
        return (int(suffix) if number else float("inf"), name)

    return [units[name] for name in sorted(units, key=number)]


def secret_or_plain(
    bag: Bag, secret_field: str, key: str, read_secret: SecretReader
) -> str | None:
    """``key`` of the secret named in ``secret_field``, else the plain field ``key``.

    Providers send a credential as a secret, or in plain text where Juju has no secrets.
    The value is taken as it is, spaces included.
    """
    if bag.get(secret_field):
        content = read_secret_field(bag, secret_field, read_secret)
        if key not in content:
            raise InvalidData(f"the secret in {secret_field} has no {key!r} key")
        return content[key]
    value = bag.get(key)
    if value is not None and not is_text(value):
        raise InvalidData(f"{key} is not text")
    return value
