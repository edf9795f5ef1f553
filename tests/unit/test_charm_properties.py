"""The whole charm, fed random Juju states: no hook fails and no credential shows.

Each example draws a Juju state as plain data (a ``World``): the built-in and the charm
author's options (good and bad values, a secret-typed one whose secret may be missing, not
granted or hold anything), the Flask secret key from config, from a secret or generated (in
the peer relation, or paas-charm's plain-text field, with any rotation counter), the model's
proxy with a login, several relations from ``strategies.cases`` (mostly tidy answers: one
unusable relation blocks the unit before the workload runs), leadership, Pebble, and one
event. ``run`` turns it into an ops.testing state and runs the event. The property: the charm
raises nothing, and no credential shows, in any form, in a status (unit and app, the whole
history), an action's message or results, or a log line.

The workload is as careless as a real one: the migration and gunicorn's ``--check-config``
fail, when the world says so, with output that prints the whole environment the charm gave
them in several forms, then one last line (the one a status quotes): the variable hypothesis
picks, mostly one that holds a credential, in the form it picks.

Credentials come in every shape (``strategies.CREDENTIALS``). One that public text also holds
(the charm's and ops' source, names, any non-secret input) cannot be told from a leak and is
not counted; any other is.

Examples: the profile's, chosen as in test_properties.py (200 in ``dev``, 2,000 in ``ci``).
The regression tests at the end are the distinct failures it found, each as a small world.
"""

from __future__ import annotations

import collections.abc
import contextlib
import copy
import dataclasses
import functools
import json
import logging
import pathlib
import tempfile
import types
import typing
import urllib.parse

import ops
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops import testing

import charm
from flask_k8s import _interfaces as integrations
from flask_k8s import _pebble_layer as pebble_plan
from flask_k8s import _spec as spec
from flask_k8s import _state as state
from tests.unit import conftest
from tests.unit.integrations import strategies
from tests.unit.integrations.test_properties import PURE, captured_logs, public_text

WHOLE_CHARM = settings(
    PURE,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

ROOT = pathlib.Path(__file__).parents[2]
METADATA = yaml.safe_load((ROOT / "charmcraft.yaml").read_text())
APP, MODEL = "flask-k8s", "test-model"
MODEL_UUID = "0c5fdb8a-9b3e-4e3f-8d2c-7a1b2c3d4e5f"
PEERS = spec.FLASK.peer_relation
ENDPOINTS = {meta["interface"]: name for name, meta in METADATA["requires"].items()}
INTERFACES = sorted(interface for interface in integrations.MODULES if interface in ENDPOINTS)
OBSERVABILITY = tuple(METADATA["provides"])

# The charm author's options, added to charmcraft.yaml's: one of each type, and one whose
# variable (FLASK_BASE_URL) the charm sets itself.
EXTRA_OPTIONS = {
    "api-url": {"type": "string"},
    "max-items": {"type": "int"},
    "ratio": {"type": "float"},
    "feature-enabled": {"type": "boolean"},
    "api-creds": {"type": "secret"},
    "base-url": {"type": "string"},
}
OPTIONS = {**METADATA["config"]["options"], **EXTRA_OPTIONS}
SECRET_OPTIONS = ("flask-secret-key", "flask-secret-key-id", "api-creds")

# Secrets of the model, besides the relations' (strategies.URIS, renamed per relation).
OPTION_SECRET = "secret:d0c8q5vmp25c77g1ivo0"  # api-creds
KEY_SECRET = "secret:d0c8q5vmp25c77g1ivk0"  # flask-secret-key-id
GENERATED = "secret:d0c8q5vmp25c77g1ivg0"  # the key the leader generated
MISSING = "secret:d0c8q5vmp25c77g1ivm0"  # a well-formed ID no secret has

PROXY_VARIABLES = ("JUJU_CHARM_HTTP_PROXY", "JUJU_CHARM_HTTPS_PROXY", "JUJU_CHARM_NO_PROXY")
PROXY_HOSTS = ("squid.internal:3128", "10.0.0.1:3128", "[fd00::1]:3128")
MIGRATE_SH = ("bash", "-eo", "pipefail", "migrate.sh")
CHECKS = (pebble_plan.ALIVE, pebble_plan.READY, pebble_plan.EXPORTER)
HOOKS = ("config_changed", "install", "start", "upgrade_charm", "update_status")
RELATION_EVENTS = ("created", "joined", "changed", "departed", "broken")


# What the workload prints: every variable the charm passed it, in every form a script may
# use, then one last line (which a status quotes) in the form hypothesis picks.


def _quoted(environment: dict[str, str], safe: str = "") -> str:
    return "\n".join(f"{k}={urllib.parse.quote(v, safe=safe)}" for k, v in environment.items())


LAST_LINE: dict[str, collections.abc.Callable[[dict[str, str]], str]] = {
    "K=V": lambda env: "\n".join(f"{k}={v}" for k, v in env.items()),
    "json": json.dumps,
    "json, not ASCII": lambda env: json.dumps(env, ensure_ascii=False),
    "repr": repr,
    "percent-encoded": _quoted,
    "percent-encoded, / kept": lambda env: _quoted(env, safe="/"),
}


def print_environment(environment: dict[str, str], last: str, form: str) -> str:
    """A script's output: the whole environment in every form, then ``last`` in ``form``."""
    everything = [render(environment) for render in LAST_LINE.values()]
    return "\n".join([*everything, LAST_LINE[form]({last: environment[last]})]) + "\n"


@dataclasses.dataclass(frozen=True)
class Echo:
    """How a failing command prints the environment: which variable last, in which form."""

    last: str
    form: str

    def __call__(self, environment: dict[str, str]) -> str:
        return print_environment(environment, self.last, self.form)


Echoes = collections.abc.Callable[[dict[str, str]], Echo]
"""Picks, for a command's environment, how its output shows it."""


@dataclasses.dataclass(frozen=True)
class Event:
    """The event to run: a hook by name; a relation's, a secret's or a check's; the action."""

    kind: str
    target: str | None = None
    unit: int | None = None


@dataclasses.dataclass(frozen=True)
class World:
    """One Juju state and one event, as plain data: what a failing example prints."""

    event: Event = Event("config_changed")
    leader: bool = True
    config: dict[str, typing.Any] = dataclasses.field(default_factory=dict)
    # Options and endpoints that charmcraft.yaml makes required (``optional: false``).
    required: frozenset[str] = frozenset()
    # Secret contents by ID; IDs the charm may not read (not granted).
    secrets: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    ungranted: frozenset[str] = frozenset()
    # The peer relation's application bag (None: no peer relation) and its other units.
    peer: dict[str, str] | None = dataclasses.field(default_factory=dict)
    peer_units: int = 0
    proxy: dict[str, str] = dataclasses.field(default_factory=dict)
    # Each relation: its interface and the case, with secret URIs of its own.
    relations: tuple[tuple[str, strategies.Case], ...] = ()
    observability: bool = False
    can_connect: bool = True
    migrate: bool = False
    # Commands that fail (``check``, ``migration``, ``gevent``), and where they print.
    fails: frozenset[str] = frozenset()
    stream: str = "stderr"
    # Pebble checks of the charm's previous layer: name -> (down, failures); None: no layer.
    checks: dict[str, tuple[bool, int]] | None = None
    network_fails: bool = False
    # Credentials no output may show, and non-secret inputs any output may quote.
    credentials: tuple[str, ...] = ()
    public: tuple[str, ...] = ()


# Strategies: a World, good values mostly, bad ones in one world out of four.

GOOD_INTS = {
    "webserver-workers": st.integers(1, 8),
    "webserver-threads": st.integers(1, 8),
    "webserver-timeout": st.integers(0, 120),
    "webserver-keepalive": st.integers(0, 10),
    "flask-permanent-session-lifetime": st.integers(1, 86400),
    "max-items": st.integers(-(2**63), 2**63 - 1),
}
BAD_INTS = st.integers() | st.sampled_from((-1, 0, 2**63, -(2**63) - 1, 2**64, 10**30))
GOOD_VALUES: dict[str, st.SearchStrategy[typing.Any]] = {
    **GOOD_INTS,
    "webserver-worker-class": st.sampled_from(("sync", "gevent", " Sync ")),
    "webserver-readiness-path": st.sampled_from(("/", "/health", "/ready?full=1")),
    "flask-application-root": st.sampled_from(("/", "/app")),
    "flask-debug": st.booleans(),
    "flask-session-cookie-secure": st.booleans(),
    "flask-env": st.sampled_from(("production", "staging")),
    "flask-preferred-url-scheme": st.sampled_from(("HTTP", "HTTPS", "https")),
    "oidc-redirect-path": st.sampled_from(("/callback", "/oidc/callback")),
    "oidc-scopes": st.sampled_from(("openid profile email", "openid")),
    "token": strategies.TEXT,
    "api-url": st.sampled_from(("https://api.example.com/v1",)) | strategies.TEXT,
    "ratio": st.floats(allow_nan=False, allow_infinity=False),
    "feature-enabled": st.booleans(),
}
BAD_TEXT = st.sampled_from(("", " ", "\n", "eventlet", "app", "/a b", "ftp")) | strategies.TEXT
BAD_VALUES: dict[str, st.SearchStrategy[typing.Any]] = {
    **dict.fromkeys(GOOD_INTS, BAD_INTS),
    **{
        name: BAD_TEXT
        for name, value in GOOD_VALUES.items()
        if OPTIONS[name]["type"] == "string" and name not in ("token", "api-url")
    },
    "oidc-redirect-path": strategies.OPTION_VALUES["redirect-path"],
    "oidc-scopes": strategies.OPTION_VALUES["scopes"],
    "ratio": st.floats(),
    "base-url": strategies.TEXT,
}
# Each option's values: good ones, or good and bad ones.
OPTION_VALUES = (
    GOOD_VALUES,
    {
        **GOOD_VALUES,
        **BAD_VALUES,
        **{name: GOOD_VALUES[name] | BAD_VALUES[name] for name in GOOD_VALUES.keys() & BAD_VALUES},
    },
)
OPTION_NAMES = tuple(st.sets(st.sampled_from(sorted(values))) for values in OPTION_VALUES)


def rarely(draw: st.DrawFn, label: str, one_in: int = 4) -> bool:
    """True one time in ``one_in``; False is the usual case, which failing examples shrink to."""
    return draw(st.integers(0, one_in - 1), label=label) == one_in - 1


KEY_SOURCES = (
    st.sampled_from(("generated", "option", "secret")),
    st.sampled_from(("generated", "option", "secret", "both")),
)
# What a secret-typed option may name: its secret, a secret that is not there, another one.
SECRET_IDS = {
    option: st.sampled_from((own, MISSING, other))
    for option, own, other in (
        ("flask-secret-key-id", KEY_SECRET, OPTION_SECRET),
        ("api-creds", OPTION_SECRET, KEY_SECRET),
    )
}
KEY_NAMES = st.sampled_from(("user-name", "password", "api-key", "token", "value"))
# A user secret: names for keys (any text when bad), credentials for values; Juju refuses a
# secret without keys.
SECRET_CONTENTS = tuple(
    st.dictionaries(keys, strategies.CREDENTIALS, min_size=1)
    for keys in (KEY_NAMES, KEY_NAMES | strategies.KEYS)
)
KEY_IDS = st.sampled_from((GENERATED, GENERATED, MISSING)) | strategies.TEXT
REVISIONS = st.integers(0, 10**6).map(str) | strategies.JUNK | strategies.TEXT
PROXY_HOST = st.sampled_from(PROXY_HOSTS)
CHECK_NAMES = st.sets(st.sampled_from(CHECKS))
FAILURES = st.integers(0, 20)
# How the workload's commands go: the migration (if the rock has one) and gunicorn's checks
# pass, or one of them fails, printing the environment. Mostly one fails.
WORKLOADS = st.sampled_from(
    (
        (False, ()),
        (True, ()),
        (False, ("check",)),
        (True, ("check",)),
        (True, ("migration",)),
        (True, ("migration",)),
        (False, ("gevent",)),
    )
)
REQUIRABLE = st.sets(
    st.sampled_from(["api-url", "api-creds", *(ENDPOINTS[interface] for interface in INTERFACES)]),
    max_size=2,
)
INTERFACE = st.sampled_from(INTERFACES)
RELATION_COUNTS = st.sampled_from((0, 1, 1, 2, 2, 3))
RELATION_SETS = {
    count: st.lists(INTERFACE, min_size=count, max_size=count, unique=True) for count in range(4)
}
STREAMS = st.sampled_from(("stderr", "stdout"))
ECHO_FORMS = st.sampled_from(sorted(LAST_LINE))


@st.composite
def configs(draw: st.DrawFn, bad: bool) -> dict[str, typing.Any]:
    """Values for some of the options that are not secrets."""
    values = OPTION_VALUES[bad]
    return {name: draw(values[name], label=name) for name in sorted(draw(OPTION_NAMES[bad]))}


def proxy_url(draw: st.DrawFn, logins: list[str]) -> str:
    """A model proxy URL, with a login (raw or percent-encoded) or without."""
    host = draw(PROXY_HOST)
    if rarely(draw, "proxy without login"):
        return f"http://{host}"
    user, password = draw(strategies.CREDENTIALS), draw(strategies.CREDENTIALS)
    logins.extend((user, password))
    if draw(st.booleans()):
        user, password = (urllib.parse.quote(part, safe="") for part in (user, password))
    return f"http://{user}:{password}@{host}"


def with_own_secrets(case: strategies.Case, index: int) -> strategies.Case:
    """The case with its secret URIs renamed, so that every relation has its own."""

    def rename(text: str) -> str:
        return text.replace("secret:d0c8q5vmp25c77g1ivp", f"secret:d0c8q5vmp25c77g1{index:02d}p")

    def bag(data: dict[str, str]) -> dict[str, str]:
        return {key: rename(value) for key, value in data.items()}

    return dataclasses.replace(
        case,
        app=bag(case.app),
        units={name: bag(data) for name, data in case.units.items()},
        local_app=bag(case.local_app),
        secrets={rename(uri): bag(content) for uri, content in case.secrets.items()},
    )


# Mostly tidy answers: one unusable relation blocks the unit before the workload, whose
# output is where credentials show.
JUNK_LEVELS = st.sampled_from((0, 0, 0, 0, 0, 1, 2, 3, 4))


@functools.cache
def cases(interface: str) -> st.SearchStrategy[strategies.Case]:
    return strategies.cases(
        interface,
        ENDPOINTS[interface],
        tuple(OPTIONS),
        credentials=strategies.CREDENTIALS,
        junk_levels=JUNK_LEVELS,
    )


def events(world: World) -> list[Event]:
    """Every event that can happen in this world."""
    found = [Event(kind) for kind in HOOKS]
    found.append(Event("action", "rotate-secret-key"))
    if world.leader:
        found.append(Event("leader_elected"))
    found.extend(Event("secret_changed", uri) for uri in world.secrets if uri != GENERATED)
    if world.can_connect:
        found.append(Event("pebble_ready"))
    for name in world.checks or {}:
        found.extend(
            Event(kind, name) for kind in ("pebble_check_failed", "pebble_check_recovered")
        )
    # Each endpoint with the remote unit its events come from, if it has any.
    endpoints = [
        (ENDPOINTS[interface], len(case.units) - 1 if case.units else None)
        for interface, case in world.relations
    ]
    endpoints.extend((name, 0) for name in OBSERVABILITY if world.observability)
    if world.peer is not None:
        endpoints.append((PEERS, world.peer_units or None))
    for endpoint, unit in endpoints:
        for kind in RELATION_EVENTS:
            if kind in ("created", "broken"):
                found.append(Event(f"relation_{kind}", endpoint))
            elif unit is not None:  # A remote unit joins, changes or departs.
                found.append(Event(f"relation_{kind}", endpoint, unit))
    return found


def draw_secret_key(
    draw: st.DrawFn, bad: bool, config: dict[str, typing.Any], secrets: dict[str, dict[str, str]]
) -> None:
    """The Flask secret key: from flask-secret-key, from flask-secret-key-id, or generated."""
    source = draw(KEY_SOURCES[bad], label="secret key from")
    if source in ("option", "both"):
        config["flask-secret-key"] = draw(strategies.CREDENTIALS, label="flask-secret-key")
    if source in ("secret", "both"):
        config["flask-secret-key-id"] = (
            draw(SECRET_IDS["flask-secret-key-id"]) if bad else KEY_SECRET
        )
        if not bad:
            secrets[KEY_SECRET] = {"value": draw(strategies.CREDENTIALS, label="key")}
        elif not rarely(draw, "no secret"):
            secrets[KEY_SECRET] = draw(SECRET_CONTENTS[bad], label="key secret")


def draw_option_secret(
    draw: st.DrawFn, bad: bool, config: dict[str, typing.Any], secrets: dict[str, dict[str, str]]
) -> None:
    """The charm author's secret-typed option, api-creds."""
    if draw(st.booleans(), label="api-creds"):
        config["api-creds"] = draw(SECRET_IDS["api-creds"]) if bad else OPTION_SECRET
        if not bad or not rarely(draw, "no secret"):
            secrets[OPTION_SECRET] = draw(SECRET_CONTENTS[bad], label="api-creds secret")


def draw_peer(
    draw: st.DrawFn, secrets: dict[str, dict[str, str]], credentials: list[str]
) -> dict[str, str] | None:
    """The peer bag: the generated key's ID, paas-charm's plain-text key, the rotation count."""
    if rarely(draw, "no peer relation", one_in=8):
        return None
    peer: dict[str, str] = {}
    if not rarely(draw, "no generated secret"):
        secrets[GENERATED] = {"value": draw(strategies.CREDENTIALS, label="generated key")}
    if not rarely(draw, "no secret-key-id"):
        peer["secret-key-id"] = draw(KEY_IDS, label="secret-key-id")
    if rarely(draw, "legacy key"):
        peer["flask_secret_key"] = draw(strategies.CREDENTIALS, label="legacy key")
        credentials.append(peer["flask_secret_key"])
    if draw(st.booleans()):
        peer["secret-key-revision"] = draw(REVISIONS, label="secret-key-revision")
    return peer


def draw_proxy(draw: st.DrawFn, credentials: list[str]) -> dict[str, str]:
    """The model's proxy settings, their logins among the credentials."""
    proxy = {
        name: proxy_url(draw, credentials)
        for name in PROXY_VARIABLES[:2]
        if draw(st.booleans(), label=name)
    }
    if draw(st.booleans()):
        proxy["JUJU_CHARM_NO_PROXY"] = "127.0.0.1,localhost,::1"
    return proxy


def draw_relations(draw: st.DrawFn) -> tuple[tuple[str, strategies.Case], ...]:
    """Relations: a few, or (one world in 24) every one: a hook costs more with each."""
    if rarely(draw, "every relation", one_in=24):
        chosen = INTERFACES
    else:
        chosen = draw(RELATION_SETS[draw(RELATION_COUNTS, label="relations")], label="interfaces")
    return tuple(
        (interface, with_own_secrets(draw(cases(interface), label=interface), index))
        for index, interface in enumerate(sorted(chosen))
    )


def draw_checks(draw: st.DrawFn) -> dict[str, tuple[bool, int]] | None:
    """The Pebble checks of the charm's previous layer, up or down; None: no such layer."""
    if not draw(st.booleans(), label="previous layer"):
        return None
    return {name: (draw(st.booleans()), draw(FAILURES)) for name in sorted(draw(CHECK_NAMES))}


def public_inputs(
    config: dict[str, typing.Any],
    secrets: dict[str, dict[str, str]],
    peer: dict[str, str] | None,
    relations: tuple[tuple[str, strategies.Case], ...],
) -> tuple[str, ...]:
    """The inputs that are not secret: option values, secret keys, databags but credentials."""
    public = [
        value if isinstance(value, str) else json.dumps(value)
        for name, value in config.items()
        if name not in SECRET_OPTIONS
    ]
    public.extend(key for content in secrets.values() for key in content)
    public.extend(value for key, value in (peer or {}).items() if key != "flask_secret_key")
    public.extend(case.public_text() for _, case in relations)
    return tuple(public)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A Juju state and an event; credentials from ``strategies.CREDENTIALS`` everywhere."""
    bad = rarely(draw, "bad values")
    credentials: list[str] = []
    secrets: dict[str, dict[str, str]] = {}
    config = draw(configs(bad), label="config")
    draw_secret_key(draw, bad, config, secrets)
    draw_option_secret(draw, bad, config, secrets)
    peer = draw_peer(draw, secrets, credentials)
    proxy = draw_proxy(draw, credentials)
    relations = draw_relations(draw)
    for _, case in relations:
        secrets.update(case.secrets)
        credentials.extend(case.credentials(shortest=1))
        config.update(case.config)
    for content in secrets.values():
        credentials.extend(value for value in content.values() if value)
    if config.get("flask-secret-key"):
        credentials.append(config["flask-secret-key"])

    ungranted, required = frozenset[str](), frozenset[str]()
    if bad:
        readable = sorted(uri for uri in secrets if uri != GENERATED)
        ungranted = frozenset(uri for uri in readable if rarely(draw, f"{uri} not granted"))
        required = frozenset(draw(REQUIRABLE, label="required"))
    workload = draw(WORKLOADS, label="migrate.sh, failing commands")
    world = World(
        leader=not rarely(draw, "not the leader"),
        config=config,
        required=required,
        secrets=secrets,
        ungranted=ungranted,
        peer=peer,
        peer_units=draw(st.integers(0, 2), label="peer units") if peer is not None else 0,
        proxy=proxy,
        relations=relations,
        observability=rarely(draw, "observability relations", one_in=8),
        can_connect=not rarely(draw, "Pebble not ready", one_in=10),
        migrate=workload[0],
        fails=frozenset(workload[1]),
        stream=draw(STREAMS, label="stream"),
        checks=draw_checks(draw),
        network_fails=bad and rarely(draw, "network-get fails"),
        credentials=tuple(dict.fromkeys(credentials)),
        public=public_inputs(config, secrets, peer, relations),
    )
    return dataclasses.replace(world, event=draw(st.sampled_from(events(world)), label="event"))


# Running a world through the charm.


@functools.cache
def _context(required: frozenset[str]) -> testing.Context:
    meta = copy.deepcopy(METADATA)
    options = {**meta.pop("config")["options"], **copy.deepcopy(EXTRA_OPTIONS)}
    for name in required:
        (options.get(name) or meta["requires"][name])["optional"] = False
    return testing.Context(
        charm.FlaskK8sCharm, meta=meta, config={"options": options}, actions=meta.pop("actions")
    )


def charm_context(required: frozenset[str]) -> testing.Context:
    """The charm's Context, with the extra options and ``required`` made required.

    One per metadata, its histories emptied before each run (making one costs 3 ms a run).
    """
    ctx = _context(required)
    for history in (
        ctx.juju_log,
        ctx.unit_status_history,
        ctx.app_status_history,
        ctx.action_logs,
        ctx.removed_secret_revisions,
        ctx.trace_data,
    ):
        history.clear()
    ctx.exec_history.clear()
    ctx.action_results = None
    return ctx


def _relation(interface: str, case: strategies.Case, relation_id: int) -> testing.Relation:
    return testing.Relation(
        ENDPOINTS[interface],
        id=relation_id,
        remote_app_name="provider",
        remote_app_data=case.app,
        remote_units_data={int(name.rpartition("/")[2]): bag for name, bag in case.units.items()},
        local_app_data=case.local_app,
    )


def _container(world: World, workload: conftest.Workload) -> testing.Container:
    execs = [testing.Exec(MIGRATE_SH)] if world.migrate else []
    if world.migrate:
        workload.add_app_file("migrate.sh", "flask db upgrade\n")
    container = workload.container(execs=execs, can_connect=world.can_connect)
    if world.checks is None:
        return container
    layer = {"checks": pebble_plan.checks("/", spec.FLASK)}
    infos = [
        testing.CheckInfo(
            name,
            level=layer["checks"][name]["level"],
            status=ops.pebble.CheckStatus.DOWN if down else ops.pebble.CheckStatus.UP,
            failures=failures,
        )
        for name, (down, failures) in world.checks.items()
    ]
    layers = {**container.layers, pebble_plan.LAYER_LABEL: ops.pebble.Layer(layer)}  # type: ignore[arg-type]
    return dataclasses.replace(container, layers=layers, check_infos=infos)


def juju_state(world: World, workload: conftest.Workload) -> testing.State:
    """The ops.testing state of ``world``."""
    relations: list[testing.RelationBase] = [
        _relation(interface, case, index)
        for index, (interface, case) in enumerate(world.relations, start=1)
    ]
    if world.observability:
        relations.extend(testing.Relation(name, id=90 + n) for n, name in enumerate(OBSERVABILITY))
    if world.peer is not None:
        peers = {n: {} for n in range(1, world.peer_units + 1)}
        relations.append(
            testing.PeerRelation(PEERS, id=99, local_app_data=world.peer, peers_data=peers)
        )
    secrets = {
        testing.Secret(content, id=uri, owner="app", label="flask-secret-key")
        if uri == GENERATED
        else testing.Secret(content, id=uri)
        for uri, content in world.secrets.items()
    }
    return testing.State(
        leader=world.leader,
        model=testing.Model(name=MODEL, uuid=MODEL_UUID),
        config=world.config,
        containers={_container(world, workload)},
        relations=relations,
        secrets=secrets,
    )


def juju_event(ctx: testing.Context, event: Event, juju: testing.State) -> typing.Any:
    """The ops.testing event of ``event`` in ``juju``."""
    on = ctx.on
    if event.kind == "action":
        return on.action(event.target or "")
    if event.kind.startswith("relation_"):
        relation = next(r for r in juju.relations if r.endpoint == event.target)
        if event.kind == "relation_departed":
            return on.relation_departed(
                relation, remote_unit=event.unit, departing_unit=event.unit
            )
        if event.kind in ("relation_joined", "relation_changed"):
            return getattr(on, event.kind)(relation, remote_unit=event.unit)
        return getattr(on, event.kind)(relation)
    if event.kind == "secret_changed":
        return on.secret_changed(juju.get_secret(id=event.target))
    container = juju.get_container(conftest.CONTAINER)
    if event.kind == "pebble_ready":
        return on.pebble_ready(container)
    if event.kind.startswith("pebble_check_"):
        info = next(info for info in container.check_infos if info.name == event.target)
        return getattr(on, event.kind)(container, info)
    return getattr(on, event.kind)()


def command_kind(command: collections.abc.Sequence[str]) -> str:
    """Which of the charm's commands this is: ``check``, ``migration`` or ``gevent``."""
    if "--check-config" in command:
        return "check"
    if "import gevent" in command:
        return "gevent"
    return "migration"


def patch_juju(mp: pytest.MonkeyPatch, world: World, echoes: Echoes) -> None:
    """The model's proxy, a workload that prints its environment, secrets not granted."""
    for name in PROXY_VARIABLES:
        mp.delenv(name, raising=False)
    for name, value in world.proxy.items():
        mp.setenv(name, value)

    scenario_exec = ops.Container.exec

    def exec_(self: ops.Container, command: list[str], **kwargs: typing.Any) -> typing.Any:
        process = scenario_exec(self, command, **kwargs)
        if command_kind(command) not in world.fails:
            return process
        environment = dict(kwargs.get("environment") or {})
        output = echoes(environment)(environment) if environment else "failed\n"
        stdout, stderr = (output, "") if world.stream == "stdout" else ("", output)
        raise ops.pebble.ExecError(command, 1, stdout, stderr)

    mp.setattr(ops.Container, "exec", exec_)

    if world.ungranted:
        get_secret = ops.Model.get_secret

        def get_secret_(self: ops.Model, *, id: str | None = None, label: str | None = None):
            if id is not None and id.rpartition(":")[2] in {
                uri.rpartition(":")[2] for uri in world.ungranted
            }:
                raise ops.ModelError("ERROR permission denied")
            return get_secret(self, id=id, label=label)

        mp.setattr(ops.Model, "get_secret", get_secret_)

    if world.network_fails:

        def network_get(self: ops.Binding, name: str, relation_id: int | None = None):
            raise ops.ModelError(f"ERROR no network config found for binding {name!r}")

        mp.setattr(ops.Binding, "_network_get", network_get)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the charm showed: statuses, action output and log lines; secrets it made."""

    texts: tuple[str, ...]
    made: tuple[str, ...]
    # The unit's status message at the end of the hook (None if an action failed early).
    status: str | None


# ops.testing writes the charm's metadata with PyYAML's Python emitter before every run (12 ms
# for this charm's); a world has one of a few metadata, each written once here.
@functools.cache
def _yaml(data: str) -> str:
    return yaml.safe_dump(json.loads(data))


FAST_YAML = types.SimpleNamespace(safe_dump=lambda data: _yaml(json.dumps(data, sort_keys=True)))


@contextlib.contextmanager
def one_process() -> collections.abc.Iterator[None]:
    """A hook as its own process: log filters it puts on the root handlers go with it.

    The charm hides secrets with a filter on every handler of the root logger; in Juju the
    process ends with the hook, here the filter would stay and rewrite the next example's
    lines with this one's secrets.
    """
    handlers = {handler: list(handler.filters) for handler in logging.getLogger().handlers}
    try:
        yield
    finally:
        for handler, filters in handlers.items():
            handler.filters[:] = filters


def run(world: World, echoes: Echoes) -> Outcome:
    """Run the world's event through the charm; an exception of the charm propagates."""
    ctx = charm_context(world.required)
    failure: list[str] = []
    with (
        one_process(),
        tempfile.TemporaryDirectory() as tmp,
        pytest.MonkeyPatch.context() as mp,
        captured_logs() as logs,
    ):
        mp.setattr("scenario._runtime.yaml", FAST_YAML)
        juju = juju_state(world, conftest.Workload(pathlib.Path(tmp)))
        patch_juju(mp, world, echoes)
        out: testing.State | None
        try:
            out = ctx.run(juju_event(ctx, world.event, juju), juju)
        except testing.ActionFailed as failed:
            failure.append(failed.message)
            out = typing.cast("testing.State | None", failed.state)
    statuses = [*ctx.unit_status_history, *ctx.app_status_history]
    if out is not None:
        statuses.extend((out.unit_status, out.app_status))
    texts = [status.message for status in statuses]
    texts.extend(line.message for line in ctx.juju_log)
    texts.extend(logs)
    texts.extend(ctx.action_logs)
    texts.extend(failure)
    if ctx.action_results is not None:
        texts.append(json.dumps(ctx.action_results, ensure_ascii=False))
        texts.append(str(ctx.action_results))
    # Keys the charm generated or rotated to: credentials too.
    made = [
        value
        for secret in (out.secrets if out is not None else ())
        for content in (secret.tracked_content, secret.latest_content or {})
        for value in content.values()
    ]
    return Outcome(tuple(texts), tuple(made), out.unit_status.message if out else None)


# The oracle.


@functools.cache
def public_source() -> str:
    """Text every message may quote: the charm's and ops' source, names, fixed inputs."""
    names = [
        APP,
        MODEL,
        MODEL_UUID,
        "provider",
        *OPTIONS,
        *CHECKS,
        *PROXY_HOSTS,
        OPTION_SECRET,
        KEY_SECRET,
        GENERATED,
        MISSING,
        (ROOT / "charmcraft.yaml").read_text(),
        *(state.unit_fqdn(f"{APP}/{n}", MODEL) for n in range(3)),
        # Bounds the rules name ("must be at most 2147483647"), written as 2**31 - 1 in code.
        *(str(bound) for bits in (15, 16, 31, 32, 63, 64) for bound in (2**bits, 2**bits - 1)),
    ]
    return "\0".join([public_text("ops", "scenario"), *names])


@functools.cache
def is_in_public_source(form: str) -> bool:
    return form in public_source()


forms_of = functools.lru_cache(maxsize=4096)(strategies.every_form)


def holds_credential(text: str, world: World) -> bool:
    """Whether ``text`` shows one of the world's credentials, in any form."""
    return any(form in text for value in world.credentials for form in forms_of(value))


def shown(
    texts: collections.abc.Iterable[str], world: World, made: tuple[str, ...] = ()
) -> dict[str, str]:
    """Each credential that a text shows, in any form, with that text.

    A credential that public text also holds, in any form, cannot be told from a leak and is
    not counted.
    """
    texts = list(texts)
    public = "\0".join(world.public)
    found: dict[str, str] = {}
    for value in dict.fromkeys((*world.credentials, *made)):
        if not value.strip():
            # A blank value's only visible form is its encoding ("%20"), which any encoded
            # public text with a space holds too: it cannot be told from a leak.
            continue
        forms = forms_of(value)
        text = next((text for text in texts if any(form in text for form in forms)), None)
        if text is None:
            continue
        if any(form in public or is_in_public_source(form) for form in forms):
            continue
        found[value] = text
    return found


def assert_nothing_shown(outcome: Outcome, world: World) -> None:
    leaked = shown(outcome.texts, world, outcome.made)
    assert not leaked, "\n".join(f"{value!r} shown in {text!r}" for value, text in leaked.items())


# The property.


@WHOLE_CHARM
@given(data=st.data())
def test_no_hook_fails_and_no_credential_shows(data: st.DataObject):
    """Whatever Juju holds, the hook ends in a status, and nothing it shows holds a secret."""
    world = data.draw(worlds(), label="world")

    def echoes(environment: dict[str, str]) -> Echo:
        # Mostly a variable that holds a credential: a status quotes only the last line.
        names = sorted(environment)
        variables = st.sampled_from(names)
        holding = [name for name in names if holds_credential(environment[name], world)]
        if holding:
            variables = st.sampled_from(holding) | variables
        last = data.draw(variables, label="variable printed last")
        return Echo(last, data.draw(ECHO_FORMS, label="in the form"))

    outcome = run(world, echoes)

    assert_nothing_shown(outcome, world)


# Regressions: each distinct failure the property found, as its smallest world. The workload
# fails the way the world says and prints the environment; the status must not show the
# credential in any form.

DATABASE_SECRET = strategies.URIS[0]


def shows(texts: collections.abc.Iterable[str], value: str) -> list[str]:
    """The texts that show ``value`` in any form."""
    return [text for text in texts if any(form in text for form in strategies.every_form(value))]


def printing(variable: str, form: str = "K=V") -> Echoes:
    """A failing command whose last line prints ``variable`` in ``form``."""
    return lambda environment: Echo(variable, form)


def failed_migration(**facts: typing.Any) -> World:
    """A leader whose rock's migrate.sh fails, with ``facts``."""
    return World(migrate=True, fails=frozenset({"migration"}), **facts)


def test_a_network_get_error_does_not_fail_the_hook():
    """Juju answers network-get with an error while a relation is being set up or torn down; the
    ingress request, which publishes the unit's address, must wait for the next event.
    """
    ingress = strategies.Case({}, {"traefik/0": {}}, {}, {}, {})
    world = World(relations=(("ingress", ingress),), network_fails=True)

    outcome = run(world, printing("FLASK_BASE_URL"))

    assert outcome.status is not None


def test_a_garbled_rotation_counter_does_not_fail_the_rotate_action():
    """Only a change of the counter matters to the other units, so garbage restarts it."""
    world = World(
        event=Event("action", "rotate-secret-key"),
        secrets={GENERATED: {"value": "generated-key-7Qm2vXb9LrT4"}},
        peer={"secret-key-id": GENERATED, "secret-key-revision": "not a number"},
    )

    outcome = run(world, printing("FLASK_SECRET_KEY"))

    assert '{"status": "success"}' in outcome.texts


def test_the_model_proxy_password_is_hidden_in_a_failed_migration_status():
    """juju model-config juju-http-proxy=http://user:password@host: the login reaches the app in
    HTTP_PROXY, and a script that prints its environment must not put it in a status.
    """
    world = failed_migration(
        proxy={"JUJU_CHARM_HTTP_PROXY": "http://proxy-user:Pr0xy-Pa55w0rd@squid.internal:3128"}
    )

    outcome = run(world, printing("HTTP_PROXY"))

    assert outcome.status is not None
    assert outcome.status.startswith("migration failed: HTTP_PROXY=http://")
    assert not shows(outcome.texts, "Pr0xy-Pa55w0rd")


def test_a_three_character_password_is_hidden_in_a_failed_migration_status():
    """Short values were left in, as if any text could hold them by chance; a status that quotes
    FLASK_API_CREDS_PIN=k9# shows the whole credential.
    """
    world = failed_migration(
        config={"api-creds": OPTION_SECRET}, secrets={OPTION_SECRET: {"pin": "k9#"}}
    )

    outcome = run(world, printing("FLASK_API_CREDS_PIN"))

    assert not shows(outcome.texts, "k9#")


def test_an_all_digit_password_is_hidden_in_a_failed_gunicorn_check_status():
    """All-digit values were left in, as if they were numbers; a PIN is a credential."""
    world = World(
        config={"api-creds": OPTION_SECRET},
        secrets={OPTION_SECRET: {"pin": "48213957"}},
        fails=frozenset({"check"}),
    )

    outcome = run(world, printing("FLASK_API_CREDS_PIN"))

    assert outcome.status is not None
    assert outcome.status.startswith("gunicorn check failed: ")
    assert not shows(outcome.texts, "48213957")


def test_a_database_password_is_hidden_percent_encoded_in_a_failed_migration_status():
    """The charm builds POSTGRESQL_DB_CONNECT_STRING with the password percent-encoded; a script
    that prints the URL shows it in that form.
    """
    database = strategies.Case(
        {"endpoints": "postgresql-k8s-primary:5432", "secret-user": DATABASE_SECRET},
        {"postgresql-k8s/0": {}},
        {},
        {DATABASE_SECRET: {"username": "relation-7", "password": "p@ss:w/rd#1"}},
        {},
    )
    world = failed_migration(
        relations=(("postgresql_client", database),), secrets=database.secrets
    )

    outcome = run(world, printing("POSTGRESQL_DB_CONNECT_STRING"))

    assert outcome.status is not None
    assert outcome.status.startswith("migration failed: POSTGRESQL_DB_CONNECT_STRING=")
    assert not shows(outcome.texts, "p@ss:w/rd#1")


def test_a_non_ascii_secret_key_is_hidden_json_escaped_in_a_failed_migration_status():
    """json.dumps writes é as \\u00e9, so the raw value is not in the line that shows it."""
    world = failed_migration(config={"flask-secret-key": "clé-secrète"})

    outcome = run(world, printing("FLASK_SECRET_KEY", "json"))

    assert not shows(outcome.texts, "clé-secrète")


def test_a_password_with_a_trailing_newline_is_hidden_in_a_failed_migration_status():
    """The status quotes the output's last line stripped, which no longer holds the value with its
    newline.
    """
    world = failed_migration(
        config={"api-creds": OPTION_SECRET},
        secrets={OPTION_SECRET: {"password": "hunter2-pw\n"}},
    )

    outcome = run(world, printing("FLASK_API_CREDS_PASSWORD"))

    assert not shows(outcome.texts, "hunter2-pw\n")


def test_a_plain_text_relation_password_is_hidden_in_a_failed_migration_status():
    """rabbitmq-k8s sends its password in the databag, not in a Juju secret: it is as secret."""
    rabbitmq = strategies.Case(
        {"hostname": "rabbitmq-k8s", "password": "plain-Pa55-word"},
        {"rabbitmq-k8s/0": {}},
        {},
        {},
        {},
    )
    world = failed_migration(relations=(("rabbitmq", rabbitmq),))

    outcome = run(world, printing("RABBITMQ_PASSWORD"))

    assert outcome.status is not None
    assert outcome.status.startswith("migration failed: RABBITMQ_PASSWORD=")
    assert not shows(outcome.texts, "plain-Pa55-word")


def test_a_secret_whose_stripped_form_is_one_letter_does_not_break_log_lines():
    """The key "s" plus spaces is hidden stripped too, as "s"; hiding that in a log line's
    template ("Emitting Juju event %s.") rather than in its arguments breaks the template,
    and formatting the line fails the hook.
    """
    world = World(config={"flask-secret-key": "s     "})

    outcome = run(world, printing("FLASK_SECRET_KEY"))

    assert outcome.status is not None
