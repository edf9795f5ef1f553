"""The charm: every event leads to one reconcile of the whole workload."""

from __future__ import annotations

import collections.abc
import logging
import os
import time
import typing

import ops

from . import (
    _config,
    _environment,
    _juju_observability,
    _juju_relations,
    _juju_secrets,
    _juju_state,
    _migrations,
    _paas_config,
    _pebble_apply,
    _proxy,
    _record,
    _requirer,
    _spec,
    _state,
    _status,
)

logger = logging.getLogger(__name__)

# The peer relation's application field naming the leader unit.
LEADER_FIELD = "leader"


class FlaskCharm(ops.CharmBase):
    """A charm for a rock built with rockcraft's flask-framework extension.

    Subclass it to add behaviour; pass another ``WorkloadSpec`` as ``workload_spec`` when the
    rock differs from the flask-framework defaults.
    """

    workload_spec: _spec.WorkloadSpec = _spec.FLASK
    requirers: typing.ClassVar[collections.abc.Mapping[str, _requirer.Requirer]] = {}
    """The charm author's requirers, by endpoint (``requires`` in the metadata): custom
    relations, read and redacted like the built-in ones (see ``flask_k8s._requirer``)."""
    templates: typing.ClassVar[collections.abc.Mapping[str, str]] = {}
    """Files for the workload, by path, each rendered from a Jinja2 template in the charm
    (a path relative to the charm's directory) with ``env`` and ``state`` (see
    ``flask_k8s._templates``)."""

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        # Every value the hook treats as secret, added as it is read; statuses, action
        # messages and log lines go through it.
        self.redactor = _status.Redactor()
        self.redactor.add(self.config.get("flask-secret-key"), *_proxy.credentials(os.environ))
        _status.redact_logs(self.redactor)
        on = self.on
        peer = self.workload_spec.peer_relation
        events: list[ops.BoundEvent] = [
            on.install,
            on.start,
            on.upgrade_charm,
            on.config_changed,
            on.update_status,
            on.leader_elected,
            on.secret_changed,
        ]
        # Metadata that lacks them is reported by the reconcile, not a hook error here.
        if self.workload_spec.container in self.meta.containers:
            container_events = on[self.workload_spec.container]
            events += [
                container_events.pebble_ready,
                container_events.pebble_check_failed,
                container_events.pebble_check_recovered,
            ]
        if peer in self.meta.peers:
            events += [
                on[peer].relation_created,
                on[peer].relation_joined,
                on[peer].relation_changed,
                on[peer].relation_departed,
            ]
        for endpoint in _juju_relations.endpoints(self):
            relation_events = on[endpoint.name]
            events += [
                relation_events.relation_created,
                relation_events.relation_joined,
                relation_events.relation_changed,
                relation_events.relation_departed,
                relation_events.relation_broken,
            ]
        for name in _juju_observability.endpoints(self):
            events += [on[name].relation_joined, on[name].relation_changed]
        for event in _dispatched(events):
            framework.observe(event, self._on_event)
        framework.observe(on.secret_remove, self._on_secret_remove)
        # A charm built on the library may leave the actions out of its metadata.
        if "rotate-secret-key" in self.meta.actions:
            framework.observe(on.rotate_secret_key_action, self._on_rotate_secret_key)
        if "migrate" in self.meta.actions:
            framework.observe(on.migrate_action, self._on_migrate)

    def _on_event(self, _: ops.EventBase) -> None:
        self.reconcile()

    def reconcile(self) -> None:
        """Bring the workload in line with Juju's view, then say how it went."""
        try:
            self._reconcile()
        except _status.StatusError as error:
            self._set_status(ops.StatusBase.from_name(error.name, error.message))

    def _reconcile(self) -> None:
        workload_spec = self.workload_spec
        self._check_metadata()
        container = self.unit.get_container(workload_spec.container)
        # The ingress URL, read once: OIDC's request and the app's variables both need it.
        external_url = _juju_relations.external_url(self, workload_spec)
        _juju_relations.publish(self, workload_spec, external_url)
        # Read once: its scrape jobs go to Prometheus even when the rest cannot be used.
        try:
            paas: _paas_config.PaasConfig | _status.Blocked = _paas_config.load(self.charm_dir)
        except _status.Blocked as invalid:
            paas = invalid
        _juju_observability.publish(self, workload_spec, paas)
        if isinstance(paas, _status.Blocked):
            raise paas
        try:
            charm_state = self._charm_state(external_url, paas)
        except _status.Missing:
            if container.can_connect():
                try:
                    _pebble_apply.stop_app(container, workload_spec)
                except ops.pebble.Error:
                    logger.warning("could not stop the app's services", exc_info=True)
            raise
        _pebble_apply.reconcile(
            container,
            charm_state,
            workload_spec,
            lambda: self._set_status(ops.MaintenanceStatus("applying the new settings")),
            self._migration_gate(),
            hooks=_pebble_apply.Hooks(
                before_settings=lambda box: self.before_settings(box, charm_state),
                after_settings=lambda box: self.after_settings(box, charm_state),
            ),
        )
        self.unit.set_ports(workload_spec.port)
        try:
            unhealthy = _pebble_apply.health(container, workload_spec)
        except ops.pebble.Error:
            unhealthy = None  # The next event asks again; the workload itself is applied.
        if unhealthy:
            self._set_status(ops.MaintenanceStatus(unhealthy))
        elif charm_state.waiting:
            names = ", ".join(charm_state.waiting)
            self._set_status(ops.WaitingStatus(f"waiting for integrations: {names}"))
        else:
            self._set_status(ops.ActiveStatus())

    def _migration_gate(self) -> _pebble_apply.MigrationGate | None:
        """The leader runs migrations and records them for the others in the peer relation."""
        peers = self.model.get_relation(self.workload_spec.peer_relation)
        if peers is None:
            return None  # No other unit to tell: this one runs its migration itself.
        data = peers.data[self.app]
        # So that a unit can name the leader (the migrate action run elsewhere).
        if self.unit.is_leader() and data.get(LEADER_FIELD) != self.unit.name:
            data[LEADER_FIELD] = self.unit.name

        def save(record: _migrations.Record) -> None:
            data[_migrations.RECORD_FIELD] = record.to_json()

        return _pebble_apply.MigrationGate(
            is_leader=self.unit.is_leader(),
            record=_migrations.Record.from_json(data.get(_migrations.RECORD_FIELD)),
            now=time.time(),
            save=save,
        )

    def _on_migrate(self, event: ops.ActionEvent) -> None:
        if not self.unit.is_leader():
            peers = self.model.get_relation(self.workload_spec.peer_relation)
            leader = peers.data[self.app].get(LEADER_FIELD) if peers else None
            named = f"the leader is {leader}; " if leader else ""
            event.fail(
                f"only the leader runs the migration: {named}"
                f"juju run {self.app.name}/leader migrate"
            )
            return
        gate = self._migration_gate()
        if gate is None:
            event.fail("the secret-storage peer relation does not exist yet; try again shortly")
            return
        try:
            # The state a reconcile reads, the charm's own variables included: the migration
            # it records is then the reconcile's, which does not run it again.
            container, charm_state = self._read_state()
            run = _pebble_apply.migrate_now(container, charm_state, self.workload_spec, gate)
        except _status.StatusError as error:
            event.fail(self.redactor.backstop(f"no migration ran: {error.message}"))
            return
        lines = run.output.rstrip().splitlines()[-20:]
        results = {"exit-code": run.exit_code if run.exit_code is not None else -1}
        event.set_results({**results, "output": self.redactor.backstop("\n".join(lines))})
        if run.reason is not None:
            event.fail(self.redactor.backstop(f"migration failed: {run.reason}"))
        self.reconcile()

    # -- override points ---------------------------------------------------------------

    def extra_environment(
        self, charm_state: _state.CharmState
    ) -> collections.abc.Mapping[str, str]:
        """Variables of your own, computed from the state; they reach the app and its workers.

        A name flask-k8s, an option or an integration sets already is refused (Blocked).
        """
        return {}

    def before_settings(self, container: ops.Container, charm_state: _state.CharmState) -> None:
        """Runs when settings change, after the migration, before the app gets them."""

    def after_settings(self, container: ops.Container, charm_state: _state.CharmState) -> None:
        """Runs when settings change, once the app was given them (workers roll over next)."""

    def run_action(
        self,
        event: ops.ActionEvent,
        step: collections.abc.Callable[
            [ops.Container, _state.CharmState], collections.abc.Mapping[str, typing.Any]
        ],
    ) -> None:
        """Run an action's ``step`` with the reconcile's state, then reconcile.

        ``step`` gets the workload container and the same ``CharmState`` a reconcile reads;
        what it returns becomes the action's results. A ``_status.StatusError`` it raises (or
        that reading the state raises: a bad option, a missing relation) fails the action
        with its message; every result and message goes through the hook's redaction.
        """
        try:
            container, charm_state = self._read_state()
            results = dict(step(container, charm_state))
        except _status.StatusError as error:
            event.fail(self.redactor.backstop(error.message))
            return
        event.set_results(
            {key: self.redactor.backstop(str(value)) for key, value in results.items()}
        )
        self.reconcile()

    def _read_state(self) -> tuple[ops.Container, _state.CharmState]:
        """The container and the state, as a reconcile reads them (Waiting without Pebble)."""
        workload_spec = self.workload_spec
        self._check_metadata()
        container = self.unit.get_container(workload_spec.container)
        if not container.can_connect():
            raise _status.Waiting(f"waiting for Pebble in the {workload_spec.container} container")
        paas = _paas_config.load(self.charm_dir)
        external_url = _juju_relations.external_url(self, workload_spec)
        return container, self._charm_state(external_url, paas)

    def _check_metadata(self) -> None:
        problems = metadata_problems(self.meta, self.workload_spec, self.requirers)
        if problems:
            raise _status.Blocked(f"charm metadata: {'; '.join(problems)}")

    def _charm_state(
        self, external_url: str | None, paas: _paas_config.PaasConfig
    ) -> _state.CharmState:
        """Juju read into the state, with the charm author's variables and templates."""
        charm_state = _juju_state.read_state(
            self, self.workload_spec, external_url, paas, self.redactor
        )
        return self._with_extra_environment(charm_state)

    def _with_extra_environment(self, charm_state: _state.CharmState) -> _state.CharmState:
        """The state with the charm author's variables and templates."""
        extra = _environment.check_extra(
            self.extra_environment(charm_state), charm_state, self.workload_spec
        )
        texts: dict[str, tuple[str, str]] = {}
        for path, name in self.templates.items():
            try:
                texts[path] = (name, (self.charm_dir / name).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                raise _status.Blocked(f"template {name} is not a text file in the charm") from None
        if not extra and not texts:
            return charm_state
        return _record.replace(charm_state, extra_env=extra, templates=texts)

    def _set_status(self, unit_status: ops.StatusBase) -> None:
        # Messages may quote program output or a provider's data: the last line of defence.
        unit_status = ops.StatusBase.from_name(
            unit_status.name, self.redactor.backstop(unit_status.message)
        )
        self.unit.status = unit_status
        if self.unit.is_leader():
            self.app.status = unit_status

    def _on_rotate_secret_key(self, event: ops.ActionEvent) -> None:
        reason = self._rotate_secret_key()
        if reason is None:
            event.set_results({"status": "success"})
            self.reconcile()
        else:
            event.fail(self.redactor.backstop(reason))

    def _rotate_secret_key(self) -> str | None:
        """Rotate the generated key; None on success, else why it was not done."""
        if not self.unit.is_leader():
            return (
                "only the leader can rotate the secret key: run the action on the leader unit "
                f"(juju run {self.app.name}/leader rotate-secret-key)"
            )
        if self.config.get("flask-secret-key") or self.config.get("flask-secret-key-id"):
            return (
                "the secret key comes from flask-secret-key or flask-secret-key-id; change that "
                "option instead"
            )
        peers = self.model.get_relation(self.workload_spec.peer_relation)
        if peers is None:
            return "the secret-storage peer relation does not exist yet; try again shortly"
        # As the reconcile reads it; an invalid value is the reconcile's to report.
        flask = _config.parse_flask(self.config, _config.Problems())
        lifetime = flask.permanent_session_lifetime or _juju_secrets.DEFAULT_SESSION_LIFETIME
        try:
            _juju_secrets.rotate_secret_key(
                self.model, peers, now=time.time(), session_lifetime=float(lifetime)
            )
        except ops.ModelError:
            logger.warning("rotating the secret key failed", exc_info=True)
            return "Juju refused to update the secret key; see juju debug-log, then try again"
        return None

    def _on_secret_remove(self, event: ops.SecretRemoveEvent) -> None:
        # Rotation leaves old revisions of the key behind; drop each once nobody tracks it.
        if event.secret.label in (_juju_secrets.SECRET_KEY_LABEL, _juju_secrets.HISTORY_LABEL):
            event.remove_revision()


def metadata_problems(
    meta: ops.CharmMeta,
    workload_spec: _spec.WorkloadSpec,
    requirers: collections.abc.Mapping[str, _requirer.Requirer],
) -> list[str]:
    """What the charm's metadata lacks that the library needs, each named for its author."""
    problems: list[str] = []
    if workload_spec.container not in meta.containers:
        problems.append(f"no container {workload_spec.container!r} (containers:)")
    if workload_spec.peer_relation not in meta.peers:
        problems.append(
            f"no peer relation {workload_spec.peer_relation!r} (peers:), where the secret "
            "key and the migration records are kept"
        )
    undeclared = sorted(set(requirers) - set(meta.requires))
    if undeclared:
        problems.append(f"requirers for undeclared endpoints: {', '.join(undeclared)} (requires:)")
    return problems


def _dispatched(events: list[ops.BoundEvent]) -> list[ops.BoundEvent]:
    """The events among ``events`` this process can see: only the one Juju dispatched.

    Juju runs one process per event and names it in JUJU_DISPATCH_PATH (``hooks/<hook>``, or
    ``actions/<action>``, which none of these is); ops emits no other (the charm never defers).
    Each ``framework.observe`` inspects its handler's signature, and the ~100 events a
    flask-k8s charm reconciles on cost ~5 ms a hook to observe. Without the variable (Harness,
    or ops emitting events itself) every event is observed.
    """
    path = os.environ.get("JUJU_DISPATCH_PATH", "")
    if not path.startswith(("hooks/", "actions/")):
        return events
    kind = path.partition("/")[2].replace("-", "_")
    return [event for event in events if event.event_kind == kind]
