"""The charm's Pebble layer, computed from the rock's own services.

The rock's layer stays as it is; the charm adds one layer that replaces the services it
manages: the web service, every ``-worker`` and every ``-scheduler``. Workers and schedulers
get the app's environment in the layer, and a change restarts them (gracefully: SIGTERM, then
``kill-delay`` to finish the current job). The web service's definition carries none of it:
gunicorn's master reads the settings file, so a new environment reaches a running app without
a restart, and Pebble, which restarts a crashed service with the definition it last started,
cannot bring an old environment back. A scheduler runs on the leader only, so exactly one unit
runs it, also after a unit is removed (Juju elects a new leader, whose leader-elected
reconcile starts it).
"""

from __future__ import annotations

import collections.abc
import typing

from . import config, gunicorn, spec, status

LAYER_LABEL = "flask-k8s"

# Health checks. Liveness (gunicorn accepts connections) restarts gunicorn; readiness (the app
# answers a request) only reports: a failing database must not make Pebble restart the app.
ALIVE, READY, EXPORTER = "flask-alive", "flask-ready", "statsd-exporter-alive"
# How long a -worker or -scheduler has after SIGTERM to finish its job before SIGKILL, when
# the rock sets no kill-delay of its own (Pebble's default is 5s).
WORKER_KILL_DELAY = "30s"


def check_period(name: str, workload: spec.WorkloadSpec) -> int:
    """Seconds between two runs of a check (the exporter is checked less often)."""
    return workload.check_period * (3 if name == EXPORTER else 1)


def is_worker(name: str) -> bool:
    """Whether a rock service is a background worker, run with the app's environment."""
    return name.lower().endswith("-worker")


def is_scheduler(name: str) -> bool:
    """Whether a rock service is a scheduler, which must run on exactly one unit."""
    return name.lower().endswith("-scheduler")


def app_services(
    rock_services: collections.abc.Iterable[str], workload: spec.WorkloadSpec
) -> list[str]:
    """The services the charm manages: the web service, workers and schedulers."""
    return [
        name
        for name in rock_services
        if name == workload.service or is_worker(name) or is_scheduler(name)
    ]


def build_layer(
    rock_services: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]],
    env: collections.abc.Mapping[str, str],
    webserver: config.WebserverConfig,
    runs_scheduler: bool,
    workload: spec.WorkloadSpec,
) -> dict[str, typing.Any]:
    """The charm's layer: each managed service, from the rock's definition."""
    if workload.service not in rock_services:
        raise status.Blocked(
            f"the rock has no {workload.service!r} service; build it with rockcraft's "
            "flask-framework extension"
        )
    services: dict[str, dict[str, typing.Any]] = {}
    for name in app_services(rock_services, workload):
        service = dict(rock_services[name])
        service["override"] = "replace"
        if name == workload.service:
            service["command"] = gunicorn.set_worker_class(
                str(service.get("command", "")), webserver.worker_class
            )
        else:
            service["environment"] = dict(env)
            service.setdefault("kill-delay", WORKER_KILL_DELAY)
        if is_scheduler(name):
            service["startup"] = "enabled" if runs_scheduler else "disabled"
        services[name] = service
    services[workload.service]["on-check-failure"] = {ALIVE: "restart"}
    return {
        "summary": "flask-k8s",
        "description": "The app's services with the environment flask-k8s computed.",
        "services": services,
        "checks": checks(webserver.readiness_path, workload),
    }


def checks(readiness_path: str, workload: spec.WorkloadSpec) -> dict[str, dict[str, typing.Any]]:
    """Liveness and readiness of the app, and liveness of the metrics exporter."""

    def check(name: str, level: str, timeout: int) -> dict[str, typing.Any]:
        period = check_period(name, workload)
        return {
            "override": "replace",
            "level": level,
            "period": f"{period}s",
            # Pebble wants a timeout shorter than the period.
            "timeout": f"{max(1, min(timeout, period // 2))}s",
            "threshold": workload.check_threshold,
        }

    return {
        ALIVE: {**check(ALIVE, "alive", 3), "tcp": {"port": workload.port}},
        READY: {
            **check(READY, "ready", 5),
            "http": {"url": f"http://localhost:{workload.port}{readiness_path}"},
        },
        EXPORTER: {
            **check(EXPORTER, "alive", 5),
            "http": {"url": f"http://localhost:{workload.exporter_port}/metrics"},
        },
    }
