"""flask-k8s: run a 12-factor Flask rock on Juju and Kubernetes.

The package is split by concern; ``charm.FlaskCharm`` ties them into one reconcile:

- ``config``: built-in and charm-author options, validated.
- ``paas_config``: ``paas-config.yaml`` at the charm root, read as paas-charm 1.12 reads it.
- ``status``: the statuses a reconcile ends in, and the one redaction set every status, action
  message and log line goes through.
- ``secrets``: Juju secrets, for secret options and the generated Flask secret key.
- ``proxy``: the model's proxy settings.
- ``state``: the inputs of one reconcile, as one immutable ``CharmState`` (pure);
  ``juju``: Juju read into it (the shell).
- ``requirer``: custom relations (``FlaskCharm.requirers``); ``templates``: files rendered
  from the charm's templates (``FlaskCharm.templates``).
- ``environment``: the app's environment variables, computed from the state.
- ``gunicorn``, ``pebble_plan``, ``migrations``: what the workload should look like.
- ``gunicorn_master``: runs inside gunicorn's master (its source is copied into the config):
  the app's settings file, the default sizing, rolling reloads.
- ``plan``: all of the above as one ``WorkloadPlan``, computed without any ops call.
- ``workload``: the only module that talks to Pebble; applies a plan idempotently.
- ``integrations``: one pure requirer module per interface (databases, caches, S3, SAML,
  RabbitMQ, SMTP, OpenFGA, OIDC, HTTP proxy, tracing, ingress, logging);
  ``relations``: the Juju side of them (requests written, answers read).
- ``cos`` and ``observability``: the metrics-endpoint and grafana-dashboard providers.
- ``local``: the charm's workload path on this machine, under a real Pebble (``make run``).

The names in ``__all__`` are the public surface (see the CHANGELOG for changes to it); the
modules behind them are the implementation.
"""

from __future__ import annotations

import importlib
import typing

# The public surface: these names, importable from the package, and what they are documented
# with. Each is loaded on first use, so importing the package costs a hook nothing.
_PUBLIC = {
    "FlaskCharm": "charm",
    "metadata_problems": "charm",
    "WorkloadSpec": "spec",
    "FLASK": "spec",
    "CharmState": "state",
    "Integrations": "state",
    "Unit": "state",
    "Reads": "state",
    "StatusError": "status",
    "Blocked": "status",
    "Waiting": "status",
    "Missing": "status",
    "Redactor": "status",
    "Requirer": "requirer",
    "Databag": "requirer",
    "Context": "requirer",
    "RemoteData": "requirer",
    "NotReady": "requirer",
    "InvalidData": "requirer",
    "Hooks": "workload",
    "WorkloadPlan": "plan",
    "replace": "_record",
}
__all__ = [
    "FLASK",
    "Blocked",
    "CharmState",
    "Context",
    "Databag",
    "FlaskCharm",
    "Hooks",
    "Integrations",
    "InvalidData",
    "Missing",
    "NotReady",
    "Reads",
    "Redactor",
    "RemoteData",
    "Requirer",
    "StatusError",
    "Unit",
    "Waiting",
    "WorkloadPlan",
    "WorkloadSpec",
    "metadata_problems",
    "replace",
]

if typing.TYPE_CHECKING:
    # Absolute, so that pyright does not bind the private module as a name of this package
    # (which would make its own modules' `from . import _record` private usage).
    from flask_k8s._record import replace

    from .charm import FlaskCharm, metadata_problems
    from .plan import WorkloadPlan
    from .requirer import Context, Databag, InvalidData, NotReady, RemoteData, Requirer
    from .spec import FLASK, WorkloadSpec
    from .state import CharmState, Integrations, Reads, Unit
    from .status import Blocked, Missing, Redactor, StatusError, Waiting
    from .workload import Hooks


def __getattr__(name: str) -> object:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'flask_k8s' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
