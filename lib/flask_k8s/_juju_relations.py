"""The Juju side of integrations: read relations into plain data, write our requests.

The integration modules (``flask_k8s._interfaces``) are pure; this module is the shell
around them, the only one that touches relation databags and relation secrets.
"""

from __future__ import annotations

import collections.abc
import logging
import socket
import typing

import ops

from . import _record, _requirer, _spec, _state, _status
from ._interfaces import common

logger = logging.getLogger(__name__)

# What some built-in integrations have besides a requirer's two functions.
_UnitRequest = collections.abc.Callable[[common.Context], common.Bag]
_LogTargets = collections.abc.Callable[
    [common.Context, common.RemoteData], collections.abc.Mapping[str, typing.Any]
]


class Endpoint(_record.Record):
    """A ``requires`` endpoint of the charm: its interface is flask-k8s's, or the charm's own."""

    name: str
    interface: str
    optional: bool
    # The charm author's requirer for this endpoint (``FlaskCharm.requirers``), if any.
    custom: _requirer.Requirer | None = None

    def requirer(self) -> _requirer.Requirer:
        """What reads the provider's answer: the charm's own, else the interface's module."""
        if self.custom is not None:
            return self.custom
        from . import _interfaces  # noqa: PLC0415 (cheap, but only needed with relations)

        return typing.cast("_requirer.Requirer", _interfaces.load(self.interface))


def _custom(charm: ops.CharmBase) -> collections.abc.Mapping[str, _requirer.Requirer]:
    return typing.cast(
        "collections.abc.Mapping[str, _requirer.Requirer]", getattr(charm, "requirers", {})
    )


def endpoints(charm: ops.CharmBase) -> list[Endpoint]:
    """The charm's integration endpoints, in metadata order.

    An endpoint with a requirer in the charm's ``requirers`` is the charm's, whatever its
    interface; another one counts when flask-k8s speaks its interface.
    """
    from . import _interfaces  # noqa: PLC0415 (cheap, but only needed with relations)

    custom = _custom(charm)
    return [
        Endpoint(name, meta.interface_name or "", meta.optional, custom.get(name))
        for name, meta in charm.meta.requires.items()
        if name in custom or (meta.interface_name and _interfaces.supports(meta.interface_name))
    ]


def context(
    charm: ops.CharmBase,
    workload_spec: _spec.WorkloadSpec,
    endpoint: str,
    interface: str,
    external_url: str | None = None,
) -> common.Context:
    """What an integration module may know about this charm."""
    internal = f"http://{charm.app.name}.{charm.model.name}:{workload_spec.port}"
    return common.Context(
        endpoint=endpoint,
        interface=interface,
        app_name=charm.app.name,
        model_name=charm.model.name,
        env_prefix=workload_spec.env_prefix,
        config=dict(charm.config),
        base_url=external_url or internal,
        external_url=external_url,
        port=workload_spec.port,
        unit_name=charm.unit.name,
        model_uuid=charm.model.uuid,
        charm_name=charm.meta.name,
        charm_dir=charm.charm_dir,
    )


def external_url(charm: ops.CharmBase, workload_spec: _spec.WorkloadSpec) -> str | None:
    """The app's URL from a ready ingress relation, for integrations that need it (OIDC)."""
    from . import _interfaces  # noqa: PLC0415

    for endpoint in endpoints(charm):
        if endpoint.interface != "ingress":
            continue
        for rel in charm.model.relations[endpoint.name]:
            try:
                return _interfaces.load("ingress").url(snapshot(charm.model, rel))
            except (common.NotReady, common.InvalidData):
                continue
    return None


def snapshot(model: ops.Model, rel: ops.Relation) -> common.RemoteData:
    """One relation's databags as plain dicts."""
    local_app: dict[str, str] = {}
    if model.unit.is_leader():
        local_app = dict(rel.data[model.app])
    return common.RemoteData(
        relation_id=rel.id,
        app=dict(rel.data[rel.app]) if rel.app else {},
        units={unit.name: dict(rel.data[unit]) for unit in rel.units},
        local_app=local_app,
        remote_app_name=rel.app.name if rel.app else None,
    )


def secret_reader(
    model: ops.Model, hide: collections.abc.Callable[..., None]
) -> common.SecretReader:
    """Reads relation secrets; every value read is passed to ``hide`` before it is used."""

    def read(uri: str) -> dict[str, str]:
        try:
            content = model.get_secret(id=uri).get_content(refresh=True)
        except (ops.SecretNotFoundError, ops.ModelError):
            raise common.SecretUnavailable(uri) from None
        hide(*content.values())
        for value in content.values():
            hide(*_status.url_credentials(value))
        return content

    return read


def _write(bag: ops.RelationDataContent, wanted: collections.abc.Mapping[str, str]) -> None:
    for key, value in wanted.items():
        if bag.get(key) != value:
            bag[key] = value


def _unit_address(charm: ops.CharmBase, rel: ops.Relation) -> tuple[str, str | None]:
    try:
        binding = charm.model.get_binding(rel)
        address = binding.network.bind_address
    except ops.ModelError:
        # network-get fails while the pod's network is not set up: publish the name only.
        logger.info("no network binding for %s yet", rel.name)
        address = None
    return socket.getfqdn(), str(address) if address is not None else None


def publish(charm: ops.CharmBase, workload_spec: _spec.WorkloadSpec, url: str | None) -> None:
    """Write each integration's request where it differs from the bag.

    The leader writes the application databag; every unit writes its own unit databag for
    the interfaces that have one (ingress: the unit's host and IP). ``url`` is the app's
    ingress URL (``external_url``), which the OIDC request needs.
    """
    leader = charm.unit.is_leader()
    for endpoint in endpoints(charm):
        relations = charm.model.relations[endpoint.name]
        if not relations:
            continue
        module = endpoint.requirer()
        ctx = context(charm, workload_spec, endpoint.name, endpoint.interface, url)
        unit_request = typing.cast("_UnitRequest | None", getattr(module, "unit_request", None))
        for rel in relations:
            rel_ctx = ctx
            if unit_request is not None:
                host, ip = _unit_address(charm, rel)
                rel_ctx = _record.replace(ctx, unit_host=host, unit_ip=ip)
                _write(rel.data[charm.unit], unit_request(rel_ctx))
            if leader:
                _write(rel.data[charm.app], module.request(rel_ctx, dict(rel.data[charm.app])))


def collect(
    charm: ops.CharmBase,
    workload_spec: _spec.WorkloadSpec,
    url: str | None,
    redactor: _status.Redactor | None = None,
) -> _state.Integrations:
    """Every related application's variables; Blocked if an answer is unusable.

    ``url`` is the app's ingress URL (``external_url``), read once per hook by the charm.
    Every credential met on the way, in a databag or a secret, goes into ``redactor`` before
    anything can quote it.
    """
    env: dict[str, str] = {}
    log_targets: dict[str, typing.Any] = {}
    waiting: list[str] = []
    missing: list[str] = []
    seen: list[str] = []

    def hide(*values: object) -> None:
        seen.extend(value for value in values if isinstance(value, str) and value)
        if redactor is not None:
            redactor.add(*values)

    read_secret = secret_reader(charm.model, hide)
    for endpoint in endpoints(charm):
        name = endpoint.name
        relations = charm.model.relations[name]
        if not relations:
            if not endpoint.optional:
                missing.append(name)
            continue
        module = endpoint.requirer()
        ctx = context(charm, workload_spec, name, endpoint.interface, url)
        # Logs may go to several Lokis; every other endpoint is limited to one relation.
        targets = typing.cast("_LogTargets | None", getattr(module, "log_targets", None))
        many = targets is not None
        ready = False
        for rel in relations if many else relations[:1]:
            data = snapshot(charm.model, rel)
            hide(*common.credentials(data))
            try:
                variables = module.environment(ctx, data, read_secret)
                hide(*common.credential_variables(variables))
                env.update(variables)
                if targets is not None:
                    log_targets.update(targets(ctx, data))
                ready = True
            except common.NotReady as not_ready:
                logger.info("%s: %s", name, _status.redact(not_ready.message, seen))
            except common.InvalidData as invalid:
                reason = _status.redact(invalid.message, seen)
                raise _status.Blocked(f"{name} relation: {reason}") from None
        if not ready:
            (waiting if endpoint.optional else missing).append(name)
    return _state.Integrations(
        environment=env,
        log_targets=log_targets,
        waiting=tuple(sorted(waiting)),
        missing=tuple(sorted(missing)),
        secret_values=tuple(seen),
    )
