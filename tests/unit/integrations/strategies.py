"""Random relation data for the property tests: databags and secrets, tidy to chaotic.

A case starts as a tidy answer made of the fields each interface's providers send (the
reference notes on relation interfaces, §4-§13), their values picked from a seed, so that it
costs one draw. Hypothesis then damages it: removes fields, sets them or any other key to bad
values (junk text, wrong JSON shapes, unreadable secrets, nested JSON past the recursion
limit), as many times as the case's level of junk (0 to 4) allows. Level 0 cases reach the
last line of a requirer; level 4 cases are junk from the first field. The credentials
(username, password) come from hypothesis too, so that it can look for the ones that break
a URL or show in a message.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import json
import random
import typing
import urllib.parse

from hypothesis import strategies as st

from flask_k8s._interfaces import common as relation
from flask_k8s._interfaces import urls

S = st.SearchStrategy


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The fields of one interface: the provider's bags, our request, its secrets' keys."""

    app: tuple[str, ...]
    units: tuple[str, ...] = ()
    local: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()


DATABASE = Protocol(
    app=(
        "database",
        "endpoints",
        "read-only-endpoints",
        "version",
        "secret-user",
        "secret-tls",
        "secret-extra",
        "username",
        "password",
        "uris",
        "read-only-uris",
        "tls",
        "tls-ca",
        "replset",
        "subordinated",
        "prefix-databases",
        "status",
        "data",
    ),
    units=("state",),
    local=("database", "requested-secrets", "extra-user-roles", "data"),
    secret=("username", "password", "uris", "read-only-uris", "tls", "tls-ca"),
)
PROTOCOLS = {
    "postgresql_client": DATABASE,
    "mysql_client": DATABASE,
    "mongodb_client": DATABASE,
    "valkey_client": dataclasses.replace(
        DATABASE,
        app=(
            *DATABASE.app,
            "resource",
            "salt",
            "sentinel-endpoints",
            "sentinel_endpoints",
            "mode",
            "requests",
        ),
    ),
    "redis": Protocol(app=("leader-host",), units=("hostname", "port")),
    "s3": Protocol(
        app=(
            "bucket",
            "access-key",
            "secret-key",
            "path",
            "endpoint",
            "region",
            "s3-uri-style",
            "storage-class",
            "tls-ca-chain",
            "s3-api-version",
            "attributes",
            "delete-older-than-days",
            "lib-version",
            "secret-extra",
            "data",
        ),
        local=("bucket", "requested-secrets", "lib-version", "path"),
        secret=("access-key", "secret-key"),
    ),
    "saml": Protocol(
        app=(
            "entity_id",
            "x509certs",
            "metadata_url",
            "single_sign_on_service_redirect_url",
            "single_sign_on_service_redirect_binding",
            "single_sign_on_service_post_url",
            "single_logout_service_redirect_url",
            "single_logout_service_redirect_binding",
            "single_logout_service_redirect_response_url",
        )
    ),
    "rabbitmq": Protocol(
        app=("hostname", "password", "ssl_port", "ssl_ca"),
        units=("hostname", "password", "ingress-address", "private-address"),
        local=("username", "vhost", "external_connectivity"),
    ),
    "smtp": Protocol(
        app=(
            "host",
            "port",
            "auth_type",
            "transport_security",
            "user",
            "password_id",
            "password",
            "domain",
            "skip_ssl_verify",
            "smtp_sender",
            "recipients",
        ),
        secret=("password",),
    ),
    "openfga": Protocol(
        app=("store_id", "token_secret_id", "token", "grpc_api_url", "http_api_url"),
        local=("store_name",),
        secret=("token",),
    ),
    "oauth": Protocol(
        app=(
            "issuer_url",
            "authorization_endpoint",
            "token_endpoint",
            "introspection_endpoint",
            "userinfo_endpoint",
            "jwks_endpoint",
            "scope",
            "client_id",
            "client_secret_id",
            "groups",
            "ca_chain",
            "jwt_access_token",
        ),
        local=("redirect_uri", "scope", "grant_types", "audience", "token_endpoint_auth_method"),
        secret=("secret",),
    ),
    "http_proxy": Protocol(
        app=("responses",), local=("requests",), secret=("username", "password")
    ),
    "ingress": Protocol(
        app=("ingress",),
        units=("ingress-address", "private-address"),
        local=("model", "name", "port", "strip-prefix", "redirect-https", "scheme"),
    ),
    "tracing": Protocol(app=("receivers",), local=("receivers",)),
    "loki_push_api": Protocol(
        app=("metadata",), units=("endpoint",), local=("metadata", "alert_rules")
    ),
}


def _union(name: str) -> tuple[str, ...]:
    return tuple(sorted({field for p in PROTOCOLS.values() for field in getattr(p, name)}))


# An interface added to flask-k8s without fields here gets every known field.
ANY_PROTOCOL = Protocol(
    app=_union("app"), units=_union("units"), local=_union("local"), secret=_union("secret")
)
ALL_FIELDS = tuple(sorted({*ANY_PROTOCOL.app, *ANY_PROTOCOL.units, *ANY_PROTOCOL.local}))
# Keys whose plain value is a credential (the no-secrets fallbacks of the protocols).
SECRET_KEYS = frozenset({"password", "secret-key", "access-key", "token", "secret"})


def juju_unit_bag(n: int) -> dict[str, str]:
    """What Juju writes in every unit's bag."""
    address = f"10.1.0.{n + 1}"
    return {
        "egress-subnets": f"{address}/32",
        "ingress-address": address,
        "private-address": address,
    }


# Secret URIs the bags may name; each case decides which can be read and what they hold.
URIS = tuple(f"secret:d0c8q5vmp25c77g1ivp{n}" for n in range(4))
# Requirer ids of http_proxy requests and responses.
IDS = ("8a3e0f9c-7d1b-4c55-9f62-1e2d3c4b5a69", "other-requirer")

CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2x\n-----END CERTIFICATE-----"
PASSWORDS = (
    "pw-8Jd3kQ",
    "p@ss:w/rd?#%",
    "pass word",
    "ünïcødé-pässwörd",
    "line\nbreak",
    "%2F%40%3A",
    " padded ",
    "a'b\"c\\d",
    "user:pw@host",
)

TEXT = st.text(max_size=24)
# Text made of the characters that break URLs, JSON and lists.
NASTY_CHARS = "@:/?#%&= \t\n[]{}\",'\\;+.-_aZ09é\u0085\u2028"
NASTY = st.text(alphabet=NASTY_CHARS, max_size=16)
SECRET_TEXT = st.one_of(st.sampled_from(PASSWORDS), TEXT, NASTY)
# Credentials of every shape, for the whole-charm test (tests/unit/test_charm_properties.py):
# any character but NUL (no environment variable can hold it) and lone surrogates.
CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\0")
URL_SPECIAL = "@:/?#%&+ "
CREDENTIALS = st.one_of(
    st.text(CHARACTERS, min_size=1, max_size=3),  # too short to tell from plain text
    st.text(alphabet="0123456789", min_size=1, max_size=20),
    # Leading and trailing blanks, which stripping output loses; the core may be as short as
    # a letter or a format directive ("s", "%s") however long the whole value is.
    st.tuples(
        st.text(alphabet=" \t\r\n", min_size=1, max_size=5),
        st.text(CHARACTERS, min_size=1, max_size=12) | st.sampled_from(("s", "%", "%s", "%d")),
        st.text(alphabet=" \t\r\n", max_size=5),
    ).map("".join),
    st.text(
        st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), min_size=1, max_size=12
    ),
    st.text(alphabet=URL_SPECIAL + "aZ09", min_size=1, max_size=16),
    st.text(CHARACTERS, min_size=40, max_size=120),
    st.sampled_from(PASSWORDS),
)
JSON_RAW = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from((*ALL_FIELDS, "url", "name")) | TEXT, children, max_size=3
        )
    ),
    max_leaves=6,
)
JSON = JSON_RAW.map(json.dumps)

GOOD_HOST_PORTS = (
    "postgresql-k8s-primary:5432",
    "mysql-k8s-primary.test-model.svc.cluster.local.:3306",
    "10.1.2.3:27017",
    "[fd00::1]:6379",
    "valkey-0.valkey-endpoints:6379",
    "db:1",
)
BAD_HOST_PORTS = (
    "host",
    "host:",
    ":5432",
    "host:0",
    "host:65536",
    "host:port",
    "a:b:c",
    "[::1",
    "::1",
    "[]:1",
    "h:\u0663",
    " , ",
    "valkey://h:6379",
    "h:-1",
    "h: 1",
)
GOOD_HOSTS = (
    "10.1.2.3",
    "redis-k8s-0.redis-k8s-endpoints",
    "rabbitmq-k8s.test-model.svc.cluster.local",
    "fd00::1",
    "smtp.example.com",
)
BAD_HOSTS = ("h h", "h/x", "[::1]", "host:25", "None", "ünï", "-")
GOOD_PORTS = ("25", "465", "587", "5432", "6379", "5671")
BAD_PORTS = ("0", "65536", "-1", "None", "abc", "1.5", " 42 ", "\u0664\u0662", "9" * 20, "0x10")
GOOD_URLS = (
    "https://idp.example.com",
    "https://idp.example.com/oauth2/auth",
    "http://squid.internal:3128",
    "https://s3.amazonaws.com",
    "http://[fd00::1]:3128",
)
DATABASE_URLS = (
    "postgresql://u:p@postgresql-k8s-primary:5432/flask-k8s",
    "mongodb://relation-68:pw@h1:27017,h2:27017/flask-k8s?replicaSet=rs&authSource=admin",
)
BAD_URLS = (
    "not a url",
    "http://[::1",
    "http://h:99999",
    "http://h:port",
    "ftp://x",
    "//h/p",
    "http://",
    "https://u:p@w@h/",
    "redis://h:None",
    "http:/h",
    "HTTP://H",
    "postgresql://u:p@h:x/db",
    "mongodb://a,,b/",
)
GOOD_BOOLS = ("true", "false", "True", "False")
BAD_BOOLS = ("None", "none", "yes", "1", "TRUE ", " true")
NAMES = (
    "flask-k8s",
    "relation-7_0c5fdb8a",
    "01GK13VYZK62Q1T0X55Q2BHYD6",
    "my-bucket",
    "*",
    "example.com",
    "https://sp.example.com/saml",
    "admin",
)
CHOICES = {
    "mode": ("sentinel", "standalone", "cluster"),
    "state": ("ready", "waiting", "blocked"),
    "auth_type": ("none", "not_provided", "plain"),
    "transport_security": ("none", "starttls", "tls"),
    "s3-uri-style": ("host", "path"),
    "version": ("16.9", "8.0.36", "9.0.1", "v1"),
    "token_endpoint_auth_method": ("client_secret_basic", "client_secret_post"),
    "scope": ("openid profile email", "openid", "profile"),
    "groups": ("groups",),
    "s3-api-version": ("2", "4"),
    "lib-version": ("1.0", "0.1"),
    "storage-class": ("STANDARD", "GLACIER"),
    "region": ("us-east-1", "eu-west-2"),
    "vhost": ("/", "flask"),
    # Weighted towards answers that go on to the next step.
    "status": (
        *["ready"] * 4,
        "pending",
        "accepted",
        "rejected",
        "invalid",
        "unsupported",
        "error",
    ),
    "auth": ("none", "userpass", "srcip", "srcip+userpass"),
    "requirer": (*[IDS[0]] * 4, IDS[1]),
}
KINDS = {
    "host-ports": ("endpoints", "read-only-endpoints", "sentinel-endpoints", "sentinel_endpoints"),
    "host": ("hostname", "leader-host", "host", "ingress-address", "private-address", "ip"),
    "port": ("port", "ssl_port"),
    "database-url": ("uris", "read-only-uris"),
    "url": (
        "metadata_url",
        "issuer_url",
        "authorization_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
        "jwks_endpoint",
        "grpc_api_url",
        "http_api_url",
        "single_sign_on_service_redirect_url",
        "single_sign_on_service_post_url",
        "single_logout_service_redirect_url",
        "single_logout_service_redirect_response_url",
        "redirect_uri",
        "http_proxy",
        "https_proxy",
    ),
    "bool": (
        "tls",
        "subordinated",
        "skip_ssl_verify",
        "jwt_access_token",
        "external_connectivity",
    ),
    "secret-uri": (
        "secret-user",
        "secret-tls",
        "secret-extra",
        "password_id",
        "token_secret_id",
        "client_secret_id",
    ),
    "string-list": (
        "tls-ca-chain",
        "attributes",
        "recipients",
        "ca_chain",
        "grant_types",
        "audience",
        "requested-secrets",
    ),
    "cert": ("tls-ca", "ssl_ca", "x509certs"),
    "credential": tuple(sorted(SECRET_KEYS)),
}
KIND_OF = {field: kind for kind, fields in KINDS.items() for field in fields}
# Fields that hold JSON lists of records: http_proxy's, and data_interfaces v1's.
RECORDS = {
    "responses": ("requirer", "status", "auth", "http_proxy", "https_proxy", "user"),
    "requests": ("requirer", "domains", "auth", "src_ips", "resource", "request-id", "salt"),
}
# Values inside http_proxy's requests that are lists.
REQUEST_LISTS = {
    "domains": ("example.com", "example.com:443", "*.ubuntu.com"),
    "auth": CHOICES["auth"],
    "src_ips": ("10.0.0.1", "fd00::1"),
}


# Good values: a tidy answer is made from one seed, so that it costs one draw; hypothesis
# spends its draws on the damage done to it (``_damage``), where bugs are.


def _secret_text(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(PASSWORDS)
    return "".join(rng.choice(NASTY_CHARS) for _ in range(rng.randint(1, 16)))


def _record(rng: random.Random, field: str) -> dict[str, typing.Any]:
    record: dict[str, typing.Any] = {}
    for key in RECORDS[field]:
        if key != "requirer" and rng.random() < 0.2:
            continue
        if field == "requests" and key in REQUEST_LISTS:
            record[key] = rng.sample(REQUEST_LISTS[key], rng.randint(0, 2))
        elif key == "user":  # A secret URI in a response (a login name in smtp).
            record[key] = rng.choice(URIS)
        else:
            record[key] = good_value(rng, key)
    return record


def _receiver(rng: random.Random) -> dict[str, typing.Any]:
    name = rng.choice(("otlp_http", "otlp_http", "otlp_grpc", "zipkin"))
    kind = "grpc" if name == "otlp_grpc" else "http"
    url = rng.choice((*GOOD_URLS, "tempo:4317"))
    return {"protocol": {"name": name, "type": kind}, "url": url}


def good_value(rng: random.Random, field: str) -> str:
    """A value a working provider could send in ``field``."""
    kind = KIND_OF.get(field)
    if field in RECORDS:
        return json.dumps([_record(rng, field) for _ in range(rng.randint(1, 2))])
    if field == "ingress":
        return json.dumps({"url": rng.choice(GOOD_URLS)})
    if field == "endpoint":  # Loki's JSON, or s3's plain URL.
        url = rng.choice(GOOD_URLS)
        return json.dumps({"url": url}) if rng.random() < 0.5 else url
    if field == "receivers":  # Tempo's answer, or our request.
        if rng.random() < 0.5:
            return json.dumps(["otlp_http"])
        return json.dumps([_receiver(rng) for _ in range(rng.randint(1, 3))])
    if field in CHOICES:
        return rng.choice(CHOICES[field])
    if kind == "host-ports":
        return ",".join(rng.sample(GOOD_HOST_PORTS, rng.randint(1, 3)))
    if kind == "string-list":
        return json.dumps(rng.sample((CERT, "a", "x@example.com", "*"), rng.randint(0, 3)))
    if kind == "cert":
        return ",".join([CERT] * rng.randint(1, 2))
    if kind == "credential":
        return _secret_text(rng)
    pools = {
        "host": GOOD_HOSTS,
        "port": GOOD_PORTS,
        "url": GOOD_URLS,
        "database-url": DATABASE_URLS,
        "bool": GOOD_BOOLS,
        "secret-uri": URIS,
    }
    return rng.choice(pools.get(kind or "", NAMES))


def uri_with(rng: random.Random, username: str, password: str) -> str:
    """A URL carrying these credentials, raw (as providers write them) or encoded."""
    scheme = rng.choice(("postgresql", "mysql", "mongodb", "redis", "amqp"))
    hosts = ",".join(rng.sample(GOOD_HOST_PORTS, rng.randint(1, 2)))
    path = rng.choice(("", "/flask-k8s", "/db?replicaSet=rs&authSource=admin"))
    if rng.random() < 0.3:
        return urls.build(scheme, hosts.split(","), username=username, password=password) + path
    return f"{scheme}://{username}:{password}@{hosts}{path}"


# Bad values: what a broken or confused provider could send, found by hypothesis.


class Repeated(str):
    """A long text made of one piece repeated, shown as such in a failing example."""

    parts: tuple[str, int, str]
    shown: str

    def __new__(cls, piece: str, times: int, end: str = "") -> Repeated:
        text = super().__new__(cls, piece * times + end * times)
        text.parts = (piece, times, end)
        text.shown = f"{piece!r} * {times} + {end!r} * {times}"
        return text

    def __reduce__(self) -> tuple[type, tuple[str, int, str]]:
        return (Repeated, self.parts)

    def __repr__(self) -> str:
        return self.shown

    def _repr_pretty_(self, printer: typing.Any, cycle: bool) -> None:
        printer.text(self.shown)


# JSON nested deeper than the parser's recursion limit.
DEEP_JSON = (Repeated("[", 5000, "]"), Repeated('{"url": ', 5000))
JUNK = st.one_of(
    st.sampled_from(("", " ", "\n", "None", "null", "[]", "{}", "0", "-1", "1e999", "NaN")),
    st.sampled_from(DEEP_JSON),
    TEXT,
    NASTY,
    JSON,
    st.sampled_from(URIS),
)
SPECIFIC_BAD = {
    "host-ports": st.lists(
        st.sampled_from(GOOD_HOST_PORTS + BAD_HOST_PORTS), min_size=1, max_size=3
    ).map(",".join),
    "host": st.sampled_from(BAD_HOSTS),
    "port": st.sampled_from(BAD_PORTS),
    "url": st.sampled_from(BAD_URLS + DATABASE_URLS),
    "database-url": st.sampled_from(BAD_URLS + GOOD_URLS),
    "bool": st.sampled_from(BAD_BOOLS),
    "secret-uri": st.sampled_from(("secret:", "secret:unknown0000000000", "nope", " ")),
    "string-list": st.sampled_from(('["a", 1]', "[null]", '"a"', "{}", "[[]]")),
    "credential": SECRET_TEXT,
}


@st.composite
def _bad_records(draw: st.DrawFn, field: str) -> str:
    """A JSON list of records with good keys and any JSON values."""
    keys = st.sampled_from(RECORDS[field])
    record = st.dictionaries(keys, st.sampled_from((*URIS, *IDS, "ready")) | JSON_RAW, max_size=4)
    return json.dumps(draw(st.lists(record | JSON_RAW, max_size=2)))


# Damage either removes a field (None) or sets it to a bad value.
REMOVED = st.none()


def _bad(field: str) -> S[str | None]:
    if field in RECORDS:
        return REMOVED | _bad_records(field) | JUNK
    specific = SPECIFIC_BAD.get(KIND_OF.get(field, ""))
    return REMOVED | JUNK if specific is None else REMOVED | specific | JUNK


BAD = {field: _bad(field) for field in {*ALL_FIELDS, *KIND_OF, *RECORDS}}
ANY_BAD = _bad("")
JUNK_LEVEL = st.integers(0, 4)
DAMAGE = tuple(st.integers(0, junk) for junk in range(5))
SEEDS = st.integers(0, 2**32 - 1)
UNIT_COUNT = st.integers(0, 3)
READABLE = st.integers(0, 9)
KEYS = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.", min_size=1, max_size=12),
    st.text(min_size=1, max_size=8),
)


ANY_KEY = ""  # Stands for a key of any text among the targets of damage.


@functools.cache
def _targets(fields: tuple[str, ...]) -> S[str]:
    """Which key damage hits: mostly the bag's own fields, then other fields, then any key."""
    return st.sampled_from((*fields, *fields, *fields, *ALL_FIELDS, ANY_KEY))


def _damage(draw: st.DrawFn, bag: dict[str, str], fields: tuple[str, ...], junk: int) -> None:
    """Remove fields from ``bag`` or set them to bad values: up to ``junk`` times."""
    for _ in range(draw(DAMAGE[junk]) if junk else 0):
        key = draw(_targets(fields)) or draw(KEYS)
        value = draw(BAD.get(key, ANY_BAD))
        if value is None:
            bag.pop(key, None)
        else:
            bag[key] = value


def draw_bag(
    draw: st.DrawFn, fields: tuple[str, ...], junk: int, base: dict[str, str] | None = None
) -> dict[str, str]:
    """A databag: a tidy answer from a seed, some fields left out, then damaged."""
    bag = dict(base or {})
    if fields:
        rng = random.Random(draw(SEEDS))
        bag.update((f, good_value(rng, f)) for f in fields if rng.random() >= junk / 10)
    _damage(draw, bag, (*fields, *bag), junk)
    return bag


USERNAMES = st.sampled_from(NAMES) | SECRET_TEXT


@functools.cache
def _usernames(credentials: S[str]) -> S[str]:
    """Login names: the usual ones, or any of ``credentials``."""
    return st.sampled_from(NAMES) | credentials


def draw_secret(
    draw: st.DrawFn,
    keys: tuple[str, ...],
    junk: int,
    username: str,
    password: str,
    *,
    other: str | None = None,
) -> dict[str, str]:
    """A secret's content: the case's credentials, the rest from a seed, then damaged.

    ``other``, if given, is the value of the other credential keys (``secret-key``,
    ``token`` ...); else they get one of the usual passwords.
    """
    rng = random.Random(draw(SEEDS))
    content: dict[str, str] = {}
    for key in keys:
        if rng.random() < junk / 10:
            continue
        if key == "username":
            content[key] = username
        elif key == "password":
            content[key] = password
        elif key in SECRET_KEYS and other is not None:
            content[key] = other
        elif key in ("uris", "read-only-uris"):
            content[key] = uri_with(rng, username, password)
        else:
            content[key] = good_value(rng, key)
    _damage(draw, content, (*keys, "secret", "value"), junk)
    return content or {"password": password}


EXTERNAL_URLS = st.sampled_from(
    ("https://flask.example.com/test-model-flask-k8s", "http://10.1.2.3/", None)
)
OPTION_VALUES = {
    "scopes": st.sampled_from(
        ("openid profile email", "openid", "  openid\temail ", "profile email", "", "OPENID")
    )
    | TEXT,
    "redirect-path": st.sampled_from(
        ("/callback", "callback", "/", "", " /a b ", "/%2F?x=1#y", "https://evil.example/cb")
    )
    | TEXT,
}


@dataclasses.dataclass(frozen=True)
class Case:
    """One relation as a requirer may find it, and the secrets it may read."""

    app: dict[str, str]
    units: dict[str, dict[str, str]]
    local_app: dict[str, str]
    secrets: dict[str, dict[str, str]]
    # Our endpoint's options (``oidc-scopes`` ...) set to other values than their defaults.
    config: dict[str, str]
    # The app's URL from an ingress relation, if there is one.
    external_url: str | None = None

    def read_secret(self, uri: str) -> dict[str, str]:
        """The content of a readable secret; SecretUnavailable for any other URI."""
        if uri not in self.secrets:
            raise relation.SecretUnavailable(uri)
        return dict(self.secrets[uri])

    def credentials(self, shortest: int = 4) -> set[str]:
        """The values no message, status or log may show: secret contents, plain credentials.

        Values shorter than ``shortest`` characters are left out: by default those shorter
        than 4, which are found in any text by chance.
        """
        found = {value for content in self.secrets.values() for value in content.values()}
        for bag in (self.app, *self.units.values()):
            found.update(value for key, value in bag.items() if key in SECRET_KEYS)
        return {value for value in found if len(value) >= max(shortest, 1)}

    @functools.cached_property
    def credential_forms(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Each credential with the forms it may show in (computed once per case)."""
        return tuple((value, forms(value)) for value in self.credentials())

    def public_text(self) -> str:
        """Every non-secret input, joined: what a message may quote."""
        parts = [*self.config.values(), *self.local_app.values(), *self.units]
        parts.append(self.external_url or "")
        for bag in (self.app, *self.units.values(), self.local_app):
            parts.extend(bag)
            parts.extend(value for key, value in bag.items() if key not in SECRET_KEYS)
        return "\0".join(parts)


def forms(value: str) -> tuple[str, ...]:
    """How a value may show in a message: as is, escaped by repr, percent-encoded."""
    return tuple(dict.fromkeys((value, repr(value)[1:-1], urls.quote(value))))


def every_form(value: str) -> tuple[str, ...]:
    """Every way program output may show a value: as is, stripped, percent-encoded (fully and
    as in a URL path), JSON-escaped (ASCII or not) and escaped by repr; blank forms left out.
    """
    shown = (
        value,
        value.strip(),
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
    )
    return tuple(form for form in dict.fromkeys(shown) if form.strip())


def leaks(text: str, case: Case, public: collections.abc.Iterable[str] = ()) -> list[str]:
    """The secret values of ``case`` that ``text`` shows, in any of their forms.

    A value that a non-secret input or ``public`` (the charm's own text) also holds is not
    counted: a message quoting that input cannot be told from a leak.
    """
    found = [value for value, shown in case.credential_forms if any(f in text for f in shown)]
    if not found:
        return []
    known = "\0".join([case.public_text(), *public])
    return [value for value in found if not any(form in known for form in forms(value))]


def draw_options(
    draw: st.DrawFn, endpoint: str, names: collections.abc.Iterable[str], junk: int
) -> dict[str, str]:
    """Other values for the endpoint's own options (``<endpoint>-scopes`` ...)."""
    config = {}
    for name in names:
        suffix = name.removeprefix(f"{endpoint}-")
        if junk and suffix != name and draw(st.booleans()):
            config[name] = draw(OPTION_VALUES.get(suffix, TEXT))
    return config


@st.composite
def requests(
    draw: st.DrawFn, interface: str, endpoint: str, option_names: collections.abc.Iterable[str]
) -> Case:
    """What a requirer's request starts from: our previous request, our options."""
    protocol = PROTOCOLS.get(interface, ANY_PROTOCOL)
    junk = draw(JUNK_LEVEL)
    local_app = draw_bag(draw, protocol.local, junk)
    config = draw_options(draw, endpoint, option_names, junk)
    return Case({}, {}, local_app, {}, config, draw(EXTERNAL_URLS))


@st.composite
def cases(
    draw: st.DrawFn,
    interface: str,
    endpoint: str,
    option_names: collections.abc.Iterable[str],
    credentials: S[str] | None = None,
    *,
    junk_levels: S[int] = JUNK_LEVEL,
) -> Case:
    """A relation of ``interface`` on ``endpoint``, at a random level of junk.

    With ``credentials``, every credential of the case (plain fields and secret keys alike)
    is drawn from it: the password, a second one for the other keys, and maybe the username.
    ``junk_levels`` draws the level of junk (0 to 4).
    """
    protocol = PROTOCOLS.get(interface, ANY_PROTOCOL)
    junk = draw(junk_levels)
    app = draw_bag(draw, protocol.app, junk)
    units = {
        # Bags nobody reads are not worth damaging (the draws make the examples slower).
        f"provider/{n}": draw_bag(
            draw, protocol.units, junk if protocol.units else 0, juju_unit_bag(n)
        )
        for n in range(draw(UNIT_COUNT))
    }
    # Our own bag, as the leader sees it; empty on other units and before the first request.
    local_app = draw_bag(draw, protocol.local, junk // 2) if draw(READABLE) >= 3 else {}
    # Only the secrets some bag names (a URI may hide in JSON) are worth making.
    named = "\0".join(value for bag in (app, *units.values()) for value in bag.values())
    # One user per provider: its credentials, of any text, are found by hypothesis.
    other = None
    if credentials is None:
        username, password = draw(USERNAMES), draw(SECRET_TEXT)
    else:
        username = draw(_usernames(credentials))
        password, other = draw(credentials), draw(credentials)
        for bag in (app, *units.values()):
            bag.update(
                (key, password if key == "password" else other) for key in SECRET_KEYS & {*bag}
            )
    secrets = {
        uri: draw_secret(draw, protocol.secret, junk // 2, username, password, other=other)
        for uri in URIS
        if uri in named and (not junk or draw(READABLE) >= junk)
    }
    config = draw_options(draw, endpoint, option_names, junk)
    return Case(app, units, local_app, secrets, config, draw(EXTERNAL_URLS))
