"""The apply step: the only module that talks to Pebble.

It reads what the container holds, compares it with a ``WorkloadPlan`` and changes only what
differs, in an order that keeps the app serving its last good settings until the new ones
have passed gunicorn's check and the migration:

1. a changed environment, gunicorn config or command is checked by the rock's own gunicorn
   (``--check-config`` imports the app with the new environment);
2. the migration runs if its inputs changed since its last success;
3. the config file is pushed, then the settings file (last: gunicorn's master takes a new one
   as the sign to reload), then SIGHUP: gunicorn's master replaces its workers one at a
   time, each old one only once a new one has loaded the app, so no request fails or waits;
4. the layer is added and the plan applied: only a changed service definition restarts a
   service (the web service's command; a ``-worker``'s or ``-scheduler``'s environment).

Everything goes through ``ops.Container``, which works over a real ``ops.pebble.Client``.
"""

from __future__ import annotations

import collections.abc
import contextlib
import json
import logging
import posixpath
import typing

import ops

from . import (
    _gunicorn_config,
    _migrations,
    _pebble_layer,
    _record,
    _spec,
    _state,
    _status,
    _workload_plan,
)

logger = logging.getLogger(__name__)

ROCK_SERVICES_FILE = "rock-services.json"
MIGRATION_FILE = "migration.sha256"


class Observed(_record.Record):
    """What the container holds now."""

    rock: _workload_plan.RockFacts
    plan_services: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]]
    plan_checks: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]]
    plan_log_targets: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]]
    gunicorn_config: str | None
    settings: str | None
    migration_digest: str | None


def _pull(container: ops.Container, path: str) -> str | None:
    try:
        return container.pull(path).read()
    except ops.pebble.PathError:
        return None


_RECORD_VERSION = 2


def _python_prefixes(command: str) -> list[str]:
    """Where the Python that runs the web service keeps its packages (<prefix>/lib/...)."""
    args = _gunicorn_config.split_command(command)
    if args and args[0].startswith("/"):
        return [posixpath.dirname(posixpath.dirname(args[0]))]
    return ["/usr", "/"]


def _has_app_side(
    container: ops.Container,
    services: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]],
    workload_spec: _spec.WorkloadSpec,
) -> bool:
    """Whether the rock's Python has flask_k8s_app (a few Pebble calls, once per container)."""
    command = str(services.get(workload_spec.service, {}).get("command", ""))
    for prefix in _python_prefixes(command):
        try:
            versions = container.list_files(posixpath.join(prefix, "lib"), pattern="python3*")
        except (ops.pebble.APIError, ops.pebble.PathError):
            continue
        for version in versions:
            for packages in ("site-packages", "dist-packages"):
                try:
                    found = container.list_files(
                        f"{version.path}/{packages}", pattern="flask_k8s_app*"
                    )
                except (ops.pebble.APIError, ops.pebble.PathError):
                    continue
                if found:
                    return True
    return False


def observe(container: ops.Container, workload_spec: _spec.WorkloadSpec) -> Observed:
    """Read the container; on first sight, record the rock's own services.

    The charm's layer replaces whole services, so later reconciles need the rock's
    definitions, not the combined plan. The record and the charm's layer live and die with
    the container, so a record is always taken from a plan without the charm's layer.
    """
    current = container.get_plan()
    plan_services = {name: service.to_dict() for name, service in current.services.items()}
    plan_checks = {name: check.to_dict() for name, check in current.checks.items()}
    plan_log_targets = {name: target.to_dict() for name, target in current.log_targets.items()}
    record = f"{workload_spec.state_dir}/{ROCK_SERVICES_FILE}"
    recorded = _pull(container, record)
    loaded: object = json.loads(recorded) if recorded is not None else None
    facts = typing.cast("dict[str, typing.Any]", loaded) if isinstance(loaded, dict) else None
    if facts is None or facts.get("version") != _RECORD_VERSION:
        # First sight of this container (or a record from before the rock's facts were
        # kept): what the rock brings, read once, lives as long as the container does.
        rock_services: dict[str, typing.Any] = dict(plan_services)
        if facts is not None and "version" not in facts:
            rock_services = facts
        facts = {
            "version": _RECORD_VERSION,
            "services": rock_services,
            "has_app_side": _has_app_side(container, rock_services, workload_spec),
        }
        container.push(record, json.dumps(facts, sort_keys=True), make_dirs=True)
    services = typing.cast("dict[str, dict[str, typing.Any]]", facts["services"])
    app_files: frozenset[str]
    try:
        app_files = frozenset(item.name for item in container.list_files(workload_spec.app_dir))
    except ops.pebble.APIError:
        app_files = frozenset()
    return Observed(
        rock=_workload_plan.RockFacts(
            services=services,
            app_files=app_files,
            log_targets=frozenset(current.log_targets),
            has_app_side=bool(facts.get("has_app_side")),
        ),
        plan_services=plan_services,
        plan_checks=plan_checks,
        plan_log_targets=plan_log_targets,
        gunicorn_config=_pull(container, workload_spec.gunicorn_config_path),
        settings=_pull(container, workload_spec.settings_file),
        migration_digest=_pull(container, f"{workload_spec.state_dir}/{MIGRATION_FILE}"),
    )


def _service_changed(observed: Observed, desired: _workload_plan.WorkloadPlan, name: str) -> bool:
    service = typing.cast("ops.pebble.ServiceDict", desired.services[name])
    return observed.plan_services.get(name) != ops.pebble.Service(name, service).to_dict()


def _layer_changed(observed: Observed, desired: _workload_plan.WorkloadPlan) -> bool:
    if any(_service_changed(observed, desired, name) for name in desired.services):
        return True
    for name, check in desired.layer.get("checks", {}).items():
        wanted = ops.pebble.Check(name, typing.cast("ops.pebble.CheckDict", check)).to_dict()
        if observed.plan_checks.get(name) != wanted:
            return True
    for name, target in desired.layer.get("log-targets", {}).items():
        raw = typing.cast("ops.pebble.LogTargetDict", target)
        if observed.plan_log_targets.get(name) != ops.pebble.LogTarget(name, raw).to_dict():
            return True
    return False


class Run(_record.Record):
    """How a command run in the workload ended; its output already redacted."""

    # None when it did not run to an end (timeout, Pebble refused it).
    exit_code: int | None
    output: str
    # Why it failed (the last line of its error output, or what stopped it); None if it did not.
    reason: str | None


def _execute(
    container: ops.Container,
    command: collections.abc.Sequence[str],
    desired: _workload_plan.WorkloadPlan,
    workload_spec: _spec.WorkloadSpec,
    timeout: float,
) -> Run:
    """Run a command as the rock's user, in the app directory, with the app's environment."""

    def hide(text: str | bytes | None) -> str:
        return _status.redact(text, desired.secret_values) if isinstance(text, str) else ""

    try:
        stdout, stderr = container.exec(
            list(command),
            environment=dict(desired.environment),
            working_dir=workload_spec.app_dir,
            user=workload_spec.user,
            group=workload_spec.group,
            timeout=timeout,
        ).wait_output()
    # ExecError is generic in its output's type, which an except clause cannot name.
    except ops.pebble.ExecError as raised:  # pyright: ignore[reportUnknownVariableType]
        error = typing.cast("ops.pebble.ExecError[str]", raised)
        # Hidden before the output is cut into lines: a secret that spans lines, or that
        # ends in a newline, is hidden whole.
        stdout, stderr = hide(error.stdout), hide(error.stderr)
        reason = _migrations.failure_reason(stdout, stderr, error.exit_code)
        return Run(error.exit_code, stdout + stderr, reason[:200])
    except ops.pebble.TimeoutError:
        return Run(None, "", f"timed out after {timeout:g}s")
    except ops.pebble.ChangeError as error:
        err = hide(error.err).strip()
        return Run(None, err, (err.splitlines()[-1] if err else "exec failed")[:200])
    except ops.pebble.APIError as error:
        return Run(None, "", hide(error.message)[:200])
    return Run(0, hide(stdout) + hide(stderr), None)


def _run(
    container: ops.Container,
    command: collections.abc.Sequence[str],
    desired: _workload_plan.WorkloadPlan,
    workload_spec: _spec.WorkloadSpec,
    timeout: float,
) -> str | None:
    """Run a command as the rock's user; None on success, else why it failed."""
    return _execute(container, command, desired, workload_spec, timeout).reason


def _check(
    container: ops.Container,
    desired: _workload_plan.WorkloadPlan,
    workload_spec: _spec.WorkloadSpec,
) -> None:
    container.push(
        _workload_plan.candidate_config_path(workload_spec),
        desired.gunicorn_config,
        make_dirs=True,
        permissions=0o644,
    )
    for command in desired.checks:
        reason = _run(container, command, desired, workload_spec, workload_spec.check_timeout)
        if reason is None:
            continue
        if "gevent" in command[-1]:
            raise _status.Blocked(
                "invalid config: webserver-worker-class gevent needs gunicorn[gevent] in the rock"
            )
        raise _status.Blocked(f"gunicorn check failed: {reason}")


class MigrationGate(_record.Record):
    """Who runs the migration: on many units, the leader, recording each run for the others.

    ``record`` is the leader's last run as the peer relation has it; ``save`` writes a new
    one there (the leader only calls it); ``now`` is the time of this reconcile.
    """

    is_leader: bool
    record: _migrations.Record | None
    now: float
    save: collections.abc.Callable[[_migrations.Record], None]


def _migrate(
    container: ops.Container,
    desired: _workload_plan.WorkloadPlan,
    workload_spec: _spec.WorkloadSpec,
    gate: MigrationGate | None,
) -> Run:
    """Run the migration, log its whole output, record how it went."""
    migration = desired.migration
    assert migration is not None  # noqa: S101
    run = _execute(container, migration.command, desired, workload_spec, desired.migration_timeout)
    outcome = "succeeded" if run.reason is None else f"failed ({run.reason})"
    logger.info("migration %s; its output:\n%s", outcome, run.output.rstrip() or "(none)")
    if run.reason is not None:
        last = gate.record if gate is not None else None
        # A rerun (the migrate action) that fails does not undo an earlier success for the
        # same inputs: every unit serves them, and a new unit must be able to as well.
        if gate is not None and not (last and last.ok and last.digest == migration.digest):
            last = last or _migrations.Record(digest="", ok=True)
            gate.save(last.failed_again(migration.digest, run.reason, gate.now))
        return run
    if gate is not None:
        gate.save(_migrations.Record(migration.digest, ok=True, at=gate.now))
    _record_applied(container, workload_spec, migration.digest)
    return run


def _record_applied(
    container: ops.Container, workload_spec: _spec.WorkloadSpec, digest: str
) -> None:
    container.push(f"{workload_spec.state_dir}/{MIGRATION_FILE}", digest, make_dirs=True)


def _make_settings_dir(container: ops.Container, workload_spec: _spec.WorkloadSpec) -> None:
    """Make sure the settings file's directory is Pebble's own, before writing secrets there.

    /dev/shm is writable by every user: the app's user could have put a symlink or a
    directory of its own at the path first. The sticky bit keeps anyone else from replacing
    a directory Pebble made.
    """
    directory, name = posixpath.split(posixpath.dirname(workload_spec.settings_file))
    try:
        found = container.list_files(directory, pattern=name)
    except ops.pebble.APIError as error:
        # A container without /dev/shm: Pebble makes it (on the container's own disk).
        if error.code != 404:
            raise
        found = []
    if not found:
        container.make_dir(posixpath.join(directory, name), make_parents=True, permissions=0o755)
        return
    (state_dir,) = container.list_files(workload_spec.state_dir, itself=True)
    info = found[0]
    if info.type != ops.pebble.FileType.DIRECTORY or info.user_id != state_dir.user_id:
        raise _status.Blocked(
            f"{info.path} is not a directory Pebble made; remove it in the "
            f"{workload_spec.container} container"
        )


def _converge(container: ops.Container, desired: _workload_plan.WorkloadPlan) -> None:
    """Start what should run and stop managed services that should not (schedulers)."""
    infos = container.get_services()
    if any(
        info.startup == ops.pebble.ServiceStartup.ENABLED and not info.is_running()
        for info in infos.values()
    ):
        container.replan()
    stop = [
        name
        for name, info in infos.items()
        if name in desired.services
        and desired.services[name].get("startup") == "disabled"
        and info.is_running()
    ]
    if stop:
        container.stop(*stop)


def apply(
    container: ops.Container,
    workload_spec: _spec.WorkloadSpec,
    observed: Observed,
    desired: _workload_plan.WorkloadPlan,
    on_change: collections.abc.Callable[[], None] = lambda: None,
    *,
    gate: MigrationGate | None = None,
    hooks: Hooks | None = None,
) -> bool:
    """Make the container run ``desired``; returns whether anything had to change.

    ``on_change`` runs once, before the first change (the charm shows Maintenance then).
    Without a ``gate`` (a single unit, no peer relation) the unit runs its migration itself.
    """
    layer_changed = _layer_changed(observed, desired)
    config_changed = observed.gunicorn_config != desired.gunicorn_config
    settings_changed = observed.settings != desired.settings
    migration = desired.migration
    migrate = migration is not None and migration.digest != observed.migration_digest
    web_redefined = _service_changed(observed, desired, workload_spec.service)
    files = {
        path: content
        for path, content in desired.files.items()
        if _pull(container, path) != content
    }
    if not (layer_changed or config_changed or settings_changed or migrate or files):
        _converge(container, desired)
        return False
    # On many units the leader runs the migration: the others wait for its record, keeping
    # their previous settings (or not starting) meanwhile.
    run_migration = migrate
    if migration is not None and migrate and gate is not None:
        run_migration = _migrations.gate(
            migration.digest, gate.record, is_leader=gate.is_leader, now=gate.now
        )

    on_change()
    if config_changed or settings_changed or web_redefined:
        _check(container, desired, workload_spec)
    if migration is not None and run_migration:
        run = _migrate(container, desired, workload_spec, gate)
        if run.reason is not None:
            raise _status.Blocked(f"migration failed: {run.reason}")
    elif migration is not None and migrate:
        _record_applied(container, workload_spec, migration.digest)
    if hooks is not None and hooks.before_settings is not None:
        hooks.before_settings(container)
    for path, content in files.items():
        # They may hold secrets: readable by the app's user only, like its settings.
        container.push(
            path,
            content,
            make_dirs=True,
            permissions=0o600,
            user=workload_spec.user,
            group=workload_spec.group,
        )
    if config_changed:
        container.push(
            workload_spec.gunicorn_config_path,
            desired.gunicorn_config,
            make_dirs=True,
            permissions=0o644,
        )
    if settings_changed:
        _make_settings_dir(container, workload_spec)
        container.push(
            workload_spec.settings_file,
            desired.settings,
            make_dirs=True,
            permissions=0o600,
            user=workload_spec.user,
            group=workload_spec.group,
        )
        # A running master without a new definition rolls its workers over to the new
        # settings; a redefined one is restarted by the replan below and reads them anew.
        if not web_redefined and container.get_service(workload_spec.service).is_running():
            container.send_signal("SIGHUP", workload_spec.service)
    if layer_changed:
        layer = typing.cast("ops.pebble.LayerDict", desired.layer)
        container.add_layer(_pebble_layer.LAYER_LABEL, layer, combine=True)
        container.replan()
    _converge(container, desired)
    if hooks is not None and hooks.after_settings is not None:
        hooks.after_settings(container)
    return True


def stop_app(container: ops.Container, workload_spec: _spec.WorkloadSpec) -> None:
    """Stop the app's services (a required input is missing); the exporter keeps running."""
    infos = container.get_services()
    running = [
        name
        for name in _pebble_layer.app_services(infos, workload_spec)
        if infos[name].is_running()
    ]
    if running:
        container.stop(*running)


class Hooks(_record.Record):
    """A charm author's steps around a change, each given the container.

    ``before_settings`` runs once the migration passed and before the app gets the new
    settings (a file to write, a cache to warm); ``after_settings`` once they were handed to
    the app (gunicorn then rolls its workers over to them, one at a time). Neither runs for
    an event that changes nothing. Either may raise a ``_status.StatusError``.
    """

    before_settings: collections.abc.Callable[[ops.Container], None] | None = None
    after_settings: collections.abc.Callable[[ops.Container], None] | None = None


def reconcile(
    container: ops.Container,
    charm_state: _state.CharmState,
    workload_spec: _spec.WorkloadSpec,
    on_change: collections.abc.Callable[[], None] = lambda: None,
    gate: MigrationGate | None = None,
    *,
    hooks: Hooks | None = None,
) -> bool:
    """Observe the container, plan from the state, apply: the whole workload side.

    Raises a ``_status.StatusError`` for anything that keeps the plan from being applied.
    The charm and the local runner both call this.
    """
    with _pebble_errors(container, charm_state, workload_spec):
        observed = observe(container, workload_spec)
        desired = _workload_plan.build(charm_state, observed.rock, workload_spec)
        return apply(
            container, workload_spec, observed, desired, on_change, gate=gate, hooks=hooks
        )
    raise AssertionError("unreachable")  # pragma: no cover


def migrate_now(
    container: ops.Container,
    charm_state: _state.CharmState,
    workload_spec: _spec.WorkloadSpec,
    gate: MigrationGate,
) -> Run:
    """Run the migration now with the current settings (the ``migrate`` action).

    A success is recorded as if a reconcile had run it; the caller reconciles afterwards.
    """
    with _pebble_errors(container, charm_state, workload_spec):
        observed = observe(container, workload_spec)
        desired = _workload_plan.build(charm_state, observed.rock, workload_spec)
        if desired.migration is None:
            names = ", ".join(_migrations.SCRIPTS)
            raise _status.Blocked(
                f"the rock has no migration script ({names} in {workload_spec.app_dir})"
            )
        return _migrate(container, desired, workload_spec, gate)
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def _pebble_errors(
    container: ops.Container, charm_state: _state.CharmState, workload_spec: _spec.WorkloadSpec
) -> collections.abc.Generator[None]:
    """Pebble's errors as the statuses that say what is wrong, without any secret."""
    if not container.can_connect():
        raise _status.Waiting(f"waiting for Pebble in the {workload_spec.container} container")
    try:
        yield
    except ops.pebble.ConnectionError:
        raise _status.Waiting("waiting for Pebble: the connection was lost") from None
    except ops.pebble.APIError as error:
        reason = _status.redact(error.message, charm_state.secret_values)
        raise _status.Blocked(f"Pebble refused the change: {reason}") from None
    except ops.pebble.ChangeError as error:
        reason = _status.redact(error.err, charm_state.secret_values)
        raise _status.Blocked(f"Pebble could not apply the change: {reason}") from None


def _duration(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def health(container: ops.Container, workload_spec: _spec.WorkloadSpec) -> str | None:
    """What is wrong according to Pebble's checks, or None when all of them pass.

    A check is reported once it is down, that is after ``threshold`` failures in a row.
    """
    infos = container.get_checks()
    reports = (
        (
            _pebble_layer.ALIVE,
            f"app not alive: nothing accepts connections on port {workload_spec.port}",
        ),
        (_pebble_layer.READY, "app not ready: readiness check failing"),
        (_pebble_layer.EXPORTER, "metrics exporter not answering: statsd-exporter check failing"),
    )
    for name, message in reports:
        info = infos.get(name)
        if info is not None and info.status == ops.pebble.CheckStatus.DOWN:
            failing = info.failures * _pebble_layer.check_period(name, workload_spec)
            text = f"{message} for {_duration(failing)}"
            if name == _pebble_layer.READY:
                detail = _pebble_layer.readiness_failure(_check_log(container, info))
                if detail:
                    text += ": " + detail
            return text
    return None


def _check_log(container: ops.Container, info: ops.pebble.CheckInfo) -> str:
    """The last failure Pebble logged for a check (the start of the app's answer).

    While a check is down, Pebble logs each failure in its recover-check change; right
    after it went down that change may have none yet, and the failure that took it down is
    the last entry of the perform-check change before it.
    """
    pebble = container.pebble
    try:
        changes = (
            [pebble.get_change(ops.pebble.ChangeID(info.change_id))] if info.change_id else []
        )
        if not _failures(changes):
            changes = [
                change
                for change in pebble.get_changes(select=ops.pebble.ChangeState.ALL)
                if change.kind == "perform-check" and change.summary.endswith(f'"{info.name}"')
            ]
    except (ops.pebble.Error, NotImplementedError, OSError):
        return ""
    failures = _failures(sorted(changes, key=lambda change: change.spawn_time))
    return failures[-1] if failures else ""


def _failures(changes: collections.abc.Iterable[ops.pebble.Change]) -> list[str]:
    return [
        entry
        for change in changes
        for task in change.tasks
        for entry in task.log
        if "non-2xx status code" in entry
    ]
