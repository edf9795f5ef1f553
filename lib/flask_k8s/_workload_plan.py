"""The whole desired workload, computed from the state and what the rock holds.

No ops call happens here: ``build`` is a pure function, tested with plain pytest.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import hashlib
import json
import typing

from . import (
    _config,
    _environment,
    _gunicorn_config,
    _migrations,
    _pebble_layer,
    _record,
    _spec,
    _state,
    _templates,
)

# The settings file's format, as gunicorn_master (in gunicorn's master) reads it. Written here
# so that a hook need not import gunicorn_master, which only the master runs.
SETTINGS_VERSION = 1


def encode_settings(environment: collections.abc.Mapping[str, str], config_digest: str) -> str:
    """The settings file's content (also what the charm compares with the container's).

    ``config_digest`` names the gunicorn.conf.py these settings go with: the charm writes
    the settings file last, so a new one means new settings, a new config, or both.
    """
    return json.dumps(
        {"version": SETTINGS_VERSION, "environment": dict(environment), "config": config_digest},
        sort_keys=True,
        indent=0,
    )


class RockFacts(_record.Record):
    """What the rock brings, as read from the container."""

    # The services of the rock's own layers, before the charm's layer.
    services: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]]
    # The names in the app directory, to find a migration script.
    app_files: frozenset[str] = frozenset()
    # The log targets in the container's plan: Pebble can't remove one, only disable it.
    log_targets: frozenset[str] = frozenset()
    # Whether the rock's Python has flask_k8s_app, whose Dockerflow endpoints Pebble can check.
    has_app_side: bool = False


def dockerflow_checks(webserver: _config.WebserverConfig, rock: RockFacts) -> bool:
    """Whether Pebble checks the app through flask_k8s_app's Dockerflow endpoints."""
    if webserver.health_checks == "auto":
        return rock.has_app_side
    return webserver.health_checks == "dockerflow"


class WorkloadPlan(_record.Record):
    """What the container should run, and what to check and run before it does."""

    environment: collections.abc.Mapping[str, str]
    layer: collections.abc.Mapping[str, typing.Any]
    gunicorn_config: str
    # The settings file's content: the environment, which gunicorn's master applies.
    settings: str
    # Commands that must succeed before a new gunicorn config or command is used.
    checks: tuple[tuple[str, ...], ...]
    migration: _migrations.Migration | None
    secret_values: tuple[str, ...] = ()
    migration_timeout: float = 600.0
    # Files rendered from the charm's templates: workload path -> content (0600, the app's).
    files: collections.abc.Mapping[str, str] = dataclasses.field(default_factory=dict[str, str])

    @property
    def services(self) -> collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]]:
        """The managed services of the layer."""
        return self.layer["services"]


def candidate_config_path(workload_spec: _spec.WorkloadSpec) -> str:
    """Where a new gunicorn config is checked before it replaces the one in use."""
    return f"{workload_spec.state_dir}/gunicorn.conf.py.candidate"


def log_targets(
    charm_state: _state.CharmState, rock: RockFacts
) -> dict[str, dict[str, typing.Any]]:
    """The state's log targets, and the container's other ones switched off."""
    targets = {name: dict(target) for name, target in charm_state.log_targets.items()}
    for name in rock.log_targets - set(targets):
        targets[name] = {
            "override": "replace",
            "type": "loki",
            "location": "http://localhost/removed",
            "services": ["-all"],
        }
    return targets


def build(
    charm_state: _state.CharmState, rock: RockFacts, workload_spec: _spec.WorkloadSpec
) -> WorkloadPlan:
    """The workload these inputs call for."""
    env = _environment.build(charm_state, workload_spec)
    layer = _pebble_layer.build_layer(
        rock.services,
        env,
        charm_state.webserver,
        charm_state.is_leader,
        workload_spec,
        dockerflow=dockerflow_checks(charm_state.webserver, rock),
    )
    layer["log-targets"] = log_targets(charm_state, rock)
    command = str(layer["services"][workload_spec.service].get("command", ""))
    python = _gunicorn_config.interpreter(command)
    checks = [tuple(_gunicorn_config.check_command(command, candidate_config_path(workload_spec)))]
    if charm_state.webserver.worker_class == "gevent":
        checks.append((python, "-c", "import gevent"))
    gunicorn_config = _gunicorn_config.render_config(
        charm_state.webserver,
        workload_spec,
        worker_class=_gunicorn_config.worker_class(command),
        # The tracing relation is ready: the SDK in each worker has somewhere to send to.
        tracing=bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")),
        json_logging=charm_state.json_logging,
    )
    files = _templates.render(charm_state.templates, env, charm_state)
    # The settings name the config and the files they go with: a new file is a new setting,
    # and the app's workers roll over to read it.
    digest = hashlib.sha256(gunicorn_config.encode())
    if files:
        digest.update(json.dumps(files, sort_keys=True).encode())
    return WorkloadPlan(
        environment=env,
        layer=layer,
        files=files,
        settings=encode_settings(env, digest.hexdigest()),
        gunicorn_config=gunicorn_config,
        checks=tuple(checks),
        migration=_migrations.plan(
            rock.app_files,
            workload_spec.app_dir,
            python,
            env,
            ignored=tuple(
                workload_spec.env_prefix + name
                for name in ("PEER_FQDNS", "SECRET_KEY", "SECRET_KEY_FALLBACKS")
            ),
        ),
        secret_values=charm_state.secret_values,
        migration_timeout=charm_state.migration_timeout,
    )
