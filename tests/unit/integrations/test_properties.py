"""Every requirer, fed random databags and secrets, ends in variables or a reason: no crash.

For each interface of ``integrations.MODULES``, random provider answers (tidy to chaotic,
``strategies.cases``) go through the pure module and through the charm. Whatever they hold,
``environment`` returns text variables or raises NotReady / InvalidData, ``request``
returns a databag that needs no rewrite once written, the charm ends in a status, and no
secret value shows in a message, a status or a log line.

Examples per interface: the ``dev`` profile runs 200 answers through the module, 25 requests
and 10 answers through the charm; the ``ci`` profile 2000, 250 and 50 (about 50 s, twice
that under coverage). ``ci`` is chosen when the environment variable CI is set; any
registered profile by naming it in HYPOTHESIS_PROFILE.
"""

from __future__ import annotations

import collections.abc
import contextlib
import functools
import json
import logging
import os
import pathlib
import re
import tempfile
import typing

import ops
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from ops import testing

import charm
from flask_k8s import _interfaces as integrations
from flask_k8s import _record
from flask_k8s._interfaces import common as relation
from tests.unit import conftest
from tests.unit.integrations import strategies

# No example database: CI starts clean, and a failure prints the seed to reproduce it.
settings.register_profile("dev", max_examples=200, deadline=None, database=None, print_blob=True)
settings.register_profile(
    "ci",
    max_examples=2000,
    deadline=None,
    derandomize=False,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _profile() -> str:
    named = os.environ.get("HYPOTHESIS_PROFILE", "")
    try:
        settings.get_profile(named)
    except InvalidArgument:
        return "ci" if os.environ.get("CI") else "dev"
    return named


# Applied to these tests only: other hypothesis tests keep their own settings.
PURE = settings(settings.get_profile(_profile()))
# A request depends on little (our bag, our options): fewer examples cover it.
REQUEST = settings(PURE, max_examples=max(25, PURE.max_examples // 8))
# A hook costs 20 ms: the charm sees fewer answers than the module.
CHARM = settings(
    PURE,
    max_examples=max(10, PURE.max_examples // 40),
    suppress_health_check=[HealthCheck.too_slow],
)

ROOT = pathlib.Path(__file__).parents[3]
METADATA = yaml.safe_load((ROOT / "charmcraft.yaml").read_text())
ENDPOINTS = {meta["interface"]: name for name, meta in METADATA["requires"].items()}
OPTIONS = METADATA["config"]["options"]
DEFAULTS = {name: meta["default"] for name, meta in OPTIONS.items() if "default" in meta}
APP, MODEL = "flask-k8s", "test-model"
BASE_URL = f"http://{APP}.{MODEL}:8000"
MODEL_UUID = "0c5fdb8a-9b3e-4e3f-8d2c-7a1b2c3d4e5f"
INTERFACES = sorted(integrations.MODULES)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STATUSES = (ops.ActiveStatus, ops.WaitingStatus, ops.BlockedStatus, ops.MaintenanceStatus)


@functools.cache
def public_text(*packages: str) -> str:
    """The source of the charm (and of ``packages``): text any message may repeat."""
    paths = [*(ROOT / "lib" / "flask_k8s").rglob("*.py"), ROOT / "src" / "charm.py"]
    for package in packages:
        module = __import__(package)
        paths.extend(pathlib.Path(module.__file__ or "").parent.rglob("*.py"))
    names = [APP, MODEL, BASE_URL, *ENDPOINTS, *ENDPOINTS.values(), "provider"]
    return "\0".join([*names, *(path.read_text() for path in paths)])


def endpoint_of(interface: str) -> str:
    assert interface in ENDPOINTS, f"charmcraft.yaml has no endpoint of interface {interface}"
    return ENDPOINTS[interface]


@functools.cache
def cases(interface: str) -> st.SearchStrategy[strategies.Case]:
    return strategies.cases(interface, endpoint_of(interface), tuple(OPTIONS))


@functools.cache
def requests(interface: str) -> st.SearchStrategy[strategies.Case]:
    return strategies.requests(interface, endpoint_of(interface), tuple(OPTIONS))


def context(interface: str, case: strategies.Case) -> relation.Context:
    """What the charm would tell the module, as far as this version of Context holds it."""
    known = set(_record.fields(relation.Context))
    facts = {
        "endpoint": endpoint_of(interface),
        "interface": interface,
        "app_name": APP,
        "model_name": MODEL,
        "config": {**DEFAULTS, **case.config},
        "base_url": case.external_url or BASE_URL,
        "external_url": case.external_url,
        "unit_name": f"{APP}/0",
        "model_uuid": MODEL_UUID,
        "charm_name": APP,
        "unit_host": f"{APP}-0.{APP}-endpoints.{MODEL}.svc.cluster.local",
        "unit_ip": "10.1.0.7",
    }
    return relation.Context(**{name: value for name, value in facts.items() if name in known})


def charm_context() -> testing.Context:
    """The charm's Context, its histories emptied (reading charmcraft.yaml costs 20 ms)."""
    if "ctx" not in CHARM_CONTEXT:
        CHARM_CONTEXT["ctx"] = testing.Context(charm.FlaskK8sCharm)
    ctx = CHARM_CONTEXT["ctx"]
    for history in (ctx.juju_log, ctx.unit_status_history, ctx.app_status_history):
        history.clear()
    return ctx


CHARM_CONTEXT: dict[str, testing.Context] = {}


@contextlib.contextmanager
def captured_logs() -> collections.abc.Iterator[list[str]]:
    """Every log line emitted meanwhile, at any level, formatted with its traceback."""
    lines: list[str] = []
    formatter = logging.Formatter()

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(formatter.format(record))

    root = logging.getLogger()
    handler, level = Recorder(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def assert_no_secret(texts: typing.Iterable[str], case: strategies.Case, public: str) -> None:
    for text in texts:
        leaked = strategies.leaks(text, case, [public])
        assert not leaked, f"secret value(s) {leaked!r} shown in {text!r}"


@pytest.mark.parametrize("interface", INTERFACES)
@PURE
@given(data=st.data())
def test_any_answer_gives_variables_or_a_reason_without_secrets(interface, data):
    module = integrations.load(interface)
    case = data.draw(cases(interface), label="case")
    snapshot = relation.RemoteData(
        relation_id=7,
        app=case.app,
        units=case.units,
        local_app=case.local_app,
        remote_app_name="provider",
    )
    before = (
        dict(case.app),
        {name: dict(bag) for name, bag in case.units.items()},
        dict(case.local_app),
    )
    texts: list[str] = []

    with captured_logs() as logs:
        try:
            env = module.environment(context(interface, case), snapshot, case.read_secret)
        except (relation.NotReady, relation.InvalidData) as reason:
            assert isinstance(reason.message, str) and reason.message.strip()
            texts.extend([reason.message, str(reason)])
        else:
            assert isinstance(env, dict)
            assert all(isinstance(value, str) for value in env.values()), env
            assert all(isinstance(name, str) and ENV_NAME.fullmatch(name) for name in env), env

    assert (case.app, case.units, case.local_app) == before, "environment() changed its input"
    assert_no_secret([*texts, *logs], case, public_text())


def is_databag(bag: typing.Any) -> bool:
    return isinstance(bag, dict) and all(
        isinstance(key, str) and isinstance(value, str) for key, value in bag.items()
    )


@pytest.mark.parametrize("interface", INTERFACES)
@REQUEST
@given(data=st.data())
def test_the_request_is_text_and_needs_no_rewrite_once_written(interface, data):
    module = integrations.load(interface)
    case = data.draw(requests(interface), label="case")
    ctx = context(interface, case)

    wanted = module.request(ctx, case.local_app)

    assert is_databag(wanted), wanted
    written = {**case.local_app, **wanted}
    again = module.request(ctx, written)
    assert {key: written.get(key) for key in again} == again
    if hasattr(module, "unit_request"):  # What each unit writes (ingress).
        assert is_databag(module.unit_request(ctx))


def test_a_connection_url_cut_short_by_a_raw_password_is_reported_without_quoting_it():
    # Found by the property above: a raw "#" in the provider's URI ends the netloc early,
    # so what looks like host:port is the username and the start of the password.
    uri = "secret:d0c8q5vmp25c77g1ivp0"
    user = {
        "username": "relation-7",
        "password": "pw-Kq2#x",
        "uris": "postgresql://operator:pw-Kq2#x@db:5432/flask-k8s",
    }
    case = strategies.Case({"endpoints": "db:5432", "secret-user": uri}, {}, {}, {uri: user}, {})
    snapshot = relation.RemoteData(relation_id=7, app=case.app)
    module = integrations.load("postgresql_client")

    with pytest.raises(relation.InvalidData) as invalid:
        module.environment(context("postgresql_client", case), snapshot, case.read_secret)

    assert "pw-Kq2" not in invalid.value.message
    assert "operator" not in invalid.value.message


def test_a_secret_cannot_stand_in_for_a_plain_field_of_the_database_answer():
    # Found by the property above: an "endpoints" key in a secret replaced the plain one,
    # and the error message quoted the secret's value.
    user, extra = "secret:d0c8q5vmp25c77g1ivp0", "secret:d0c8q5vmp25c77g1ivp1"
    app = {"endpoints": "db:5432", "secret-user": user, "secret-extra": extra}
    secrets = {user: {"username": "u", "password": "pw-Kq2"}, extra: {"endpoints": "host:0"}}
    case = strategies.Case(app, {}, {}, secrets, {})
    snapshot = relation.RemoteData(relation_id=7, app=case.app)
    module = integrations.load("postgresql_client")

    env = module.environment(context("postgresql_client", case), snapshot, case.read_secret)

    assert env["POSTGRESQL_DB_HOSTNAME"] == "db"


@pytest.mark.parametrize("interface", INTERFACES)
@CHARM
@given(data=st.data())
def test_the_charm_ends_in_a_status_without_secrets(interface, data):
    case = data.draw(cases(interface), label="case")
    endpoint = endpoint_of(interface)
    units = {int(name.rpartition("/")[2]): bag for name, bag in case.units.items()}
    related = testing.Relation(
        endpoint,
        remote_app_name="provider",
        remote_app_data=case.app,
        remote_units_data=units,
        local_app_data=case.local_app,
    )
    shared = {testing.Secret(content, id=uri, owner=None) for uri, content in case.secrets.items()}
    key = testing.Secret(
        {"value": "generated-key-7Qm2vXb9LrT4"}, owner="app", label="flask-secret-key"
    )
    peers = testing.PeerRelation("secret-storage", local_app_data={"secret-key-id": key.id})
    relations = {peers, related}
    if case.external_url and interface != "ingress" and "ingress" in ENDPOINTS:
        answer = {"ingress": json.dumps({"url": case.external_url})}
        relations.add(testing.Relation(ENDPOINTS["ingress"], remote_app_data=answer))
    ctx = charm_context()
    if units:
        event = ctx.on.relation_changed(related, remote_unit=min(units))
    else:
        event = ctx.on.relation_created(related)

    with tempfile.TemporaryDirectory() as tmp, captured_logs() as logs:
        state = testing.State(
            leader=True,
            model=testing.Model(name=MODEL),
            containers={conftest.Workload(pathlib.Path(tmp)).container()},
            relations=relations,
            secrets={key, *shared},
            config=case.config,
        )
        out = ctx.run(event, state)

    assert isinstance(out.unit_status, STATUSES), out.unit_status
    statuses = [out.unit_status, out.app_status, *ctx.unit_status_history]
    texts = [*(status.message for status in statuses), *logs]
    texts.extend(line.message for line in ctx.juju_log)
    assert_no_secret(texts, case, public_text("ops", "scenario"))
