"""The charm's Pebble layer, computed from the rock's own services.

The rock's layer stays as it is; the charm adds one layer that replaces the services it
manages: the web service, every ``-worker`` and every ``-scheduler``. Each gets the app's
environment. A scheduler runs on the leader only, so exactly one unit runs it, also after a
unit is removed (Juju elects a new leader, whose leader-elected reconcile starts it).
"""

from __future__ import annotations

import collections.abc
import typing

from . import config, gunicorn, spec, status

LAYER_LABEL = "flask-k8s"


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
        service["environment"] = dict(env)
        if name == workload.service:
            service["command"] = gunicorn.set_worker_class(
                str(service.get("command", "")), webserver.worker_class
            )
        elif is_scheduler(name):
            service["startup"] = "enabled" if runs_scheduler else "disabled"
        services[name] = service
    return {
        "summary": "flask-k8s",
        "description": "The app's services with the environment flask-k8s computed.",
        "services": services,
    }
