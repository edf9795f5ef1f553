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
import re
import typing

from . import _config, _gunicorn_config, _spec, _status

LAYER_LABEL = "flask-k8s"

# Health checks. Liveness (gunicorn accepts connections) restarts gunicorn; readiness (the app
# answers a request) only reports: a failing database must not make Pebble restart the app.
ALIVE, READY, EXPORTER = "flask-alive", "flask-ready", "statsd-exporter-alive"
# flask_k8s_app's Dockerflow endpoint that answers for every dependency of the app.
HEARTBEAT = "/__heartbeat__"
# How long a -worker or -scheduler has after SIGTERM to finish its job before SIGKILL, when
# the rock sets no kill-delay of its own (Pebble's default is 5s).
WORKER_KILL_DELAY = "30s"


def check_period(name: str, workload_spec: _spec.WorkloadSpec) -> int:
    """Seconds between two runs of a check (the exporter is checked less often)."""
    return workload_spec.check_period * (3 if name == EXPORTER else 1)


def is_worker(name: str) -> bool:
    """Whether a rock service is a background worker, run with the app's environment."""
    return name.lower().endswith("-worker")


def is_scheduler(name: str) -> bool:
    """Whether a rock service is a scheduler, which must run on exactly one unit."""
    return name.lower().endswith("-scheduler")


def app_services(
    rock_services: collections.abc.Iterable[str], workload_spec: _spec.WorkloadSpec
) -> list[str]:
    """The services the charm manages: the web service, workers and schedulers."""
    return [
        name
        for name in rock_services
        if name == workload_spec.service or is_worker(name) or is_scheduler(name)
    ]


def build_layer(
    rock_services: collections.abc.Mapping[str, collections.abc.Mapping[str, typing.Any]],
    env: collections.abc.Mapping[str, str],
    webserver: _config.WebserverConfig,
    runs_scheduler: bool,
    workload_spec: _spec.WorkloadSpec,
    *,
    dockerflow: bool = False,
) -> dict[str, typing.Any]:
    """The charm's layer: each managed service, from the rock's definition."""
    if workload_spec.service not in rock_services:
        raise _status.Blocked(
            f"the rock has no {workload_spec.service!r} service; build it with rockcraft's "
            "flask-framework extension"
        )
    services: dict[str, dict[str, typing.Any]] = {}
    for name in app_services(rock_services, workload_spec):
        service = dict(rock_services[name])
        service["override"] = "replace"
        if name == workload_spec.service:
            service["command"] = _gunicorn_config.set_worker_class(
                str(service.get("command", "")), webserver.worker_class
            )
        else:
            service["environment"] = dict(env)
            service.setdefault("kill-delay", WORKER_KILL_DELAY)
        if is_scheduler(name):
            service["startup"] = "enabled" if runs_scheduler else "disabled"
        services[name] = service
    services[workload_spec.service]["on-check-failure"] = {ALIVE: "restart"}
    return {
        "summary": "flask-k8s",
        "description": "The app's services with the environment flask-k8s computed.",
        "services": services,
        "checks": checks(webserver.readiness_path, workload_spec, dockerflow=dockerflow),
    }


def checks(
    readiness_path: str, workload_spec: _spec.WorkloadSpec, *, dockerflow: bool = False
) -> dict[str, dict[str, typing.Any]]:
    """Liveness and readiness of the app, and liveness of the metrics exporter.

    Liveness is a TCP connect to gunicorn's port in every mode: the master accepts while it
    lives, however busy its workers are. An HTTP liveness check (Dockerflow's
    ``/__lbheartbeat__``) is answered by the same workers as the traffic, so a saturated app
    would fail it and be restarted, losing every request in flight; and a rock that has
    flask_k8s_app installed but an app that does not use it would answer 404 and be
    restarted every half minute. With Dockerflow endpoints, readiness asks every dependency
    (``/__heartbeat__``, unless another readiness path was set). The heartbeat runs each
    dependency's check within its own timeout, so one failure is a real one: readiness goes
    down at the first, and ``juju status`` says so within a period.
    """

    def check(name: str, level: str, timeout: int, threshold: int) -> dict[str, typing.Any]:
        period = check_period(name, workload_spec)
        return {
            "override": "replace",
            "level": level,
            "period": f"{period}s",
            # Pebble wants a timeout shorter than the period.
            "timeout": f"{max(1, min(timeout, period // 2))}s",
            "threshold": threshold,
        }

    threshold = workload_spec.check_threshold
    url = f"http://localhost:{workload_spec.port}"
    alive = {**check(ALIVE, "alive", 3, threshold), "tcp": {"port": workload_spec.port}}
    if dockerflow:
        path = HEARTBEAT if readiness_path == "/" else readiness_path
        ready = {**check(READY, "ready", 5, 1), "http": {"url": url + path}}
    else:
        ready = {**check(READY, "ready", 5, threshold), "http": {"url": url + readiness_path}}
    return {
        ALIVE: alive,
        READY: ready,
        EXPORTER: {
            **check(EXPORTER, "alive", 5, threshold),
            "http": {"url": f"http://localhost:{workload_spec.exporter_port}/metrics"},
        },
    }


# A heartbeat body, as Pebble logs a failing check: its first 512 bytes after the status code.
_FAILED_CHECK = re.compile(r'"([^"\\]{1,60})":\s*"(error|critical)"')
_MAX_NAMED = 5


_STATUS_CODE = re.compile(r"non-2xx status code (\d{3})\b")


def failed_status_code(log: str) -> int | None:
    """The HTTP status a failing HTTP check got, from Pebble's log entry of the failure."""
    found = _STATUS_CODE.search(log)
    return int(found.group(1)) if found else None


def readiness_failure(log: str) -> str:
    """What the status adds about a failing readiness check, from Pebble's log of it.

    The heartbeat's failing checks by name; else the status code the app answered, with what
    to do about a 404 (a readiness path the app lacks, or Dockerflow checks for an app that
    does not use flask_k8s_app); else nothing (a timeout, a refused connection).
    """
    named = failing_heartbeat_checks(log)
    if named:
        return ", ".join(named)
    code = failed_status_code(log)
    if code == 404:
        return (
            "the app answers 404 (set webserver-readiness-path, or webserver-health-checks=basic"
            " if the app does not use flask_k8s_app)"
        )
    return f"the app answers {code}" if code is not None else ""


def failing_heartbeat_checks(log: str) -> list[str]:
    """The checks a failing ``/__heartbeat__`` names, as ``name (level)``, worst first.

    Pebble keeps only the start of the body; the heartbeat puts ``checks`` (names and
    levels, the worst first) before the messages, so the names are in it. Only the
    ``checks`` object is read: messages never reach the status.
    """
    _, found, rest = log.partition('"checks":')
    if not found:
        return []
    body = rest.split("}", 1)[0]
    named = [
        f"{name} ({level})" for name, level in _FAILED_CHECK.findall(body) if name.isprintable()
    ]
    if len(named) > _MAX_NAMED:
        named = [*named[:_MAX_NAMED], f"{len(named) - _MAX_NAMED} more"]
    return named
