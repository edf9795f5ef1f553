"""flask-k8s: run a 12-factor Flask rock on Juju and Kubernetes.

Use the names in ``__all__`` (the public surface; the CHANGELOG records changes to it) and
``python -m flask_k8s.local``. Every other module is private (a leading underscore) and may
change without notice. They are split by concern and by side: the *core* turns Juju's view into
the desired workload without any ops call; the *shell* modules, named for what they talk to,
are the only ones that import ops.

Core (pure, tested with plain pytest):

- ``_config``: built-in and charm-author options, validated; ``_paas_config``:
  ``paas-config.yaml`` at the charm root, read as paas-charm 1.12 reads it.
- ``_status``: the statuses a reconcile ends in, and the redaction set every status, action
  message and log line goes through.
- ``_state``: the inputs of one reconcile, one immutable ``CharmState``; ``_proxy``: the
  model's proxy settings; ``_spec``: what the rock looks like.
- ``_requirer``: custom relations (``FlaskCharm.requirers``); ``_templates``: files rendered
  from the charm's templates (``FlaskCharm.templates``).
- ``_environment``: the app's variables; ``_gunicorn_config``: gunicorn.conf.py;
  ``_pebble_layer``: the Pebble layer and checks; ``_migrations``: which script, when, who.
- ``_workload_plan``: all of the above as one ``WorkloadPlan``.
- ``_interfaces``: one requirer module per relation interface (databases, caches, S3, SAML,
  RabbitMQ, SMTP, OpenFGA, OIDC, HTTP proxy, tracing, ingress, logging), working on the plain
  snapshot of a relation in ``_interfaces.common``; ``_cos``: the Prometheus and Grafana
  payloads.
- ``_record``: the frozen value classes all of these are made of.
- ``_gunicorn_master``: runs inside gunicorn's master, not in the charm (its source is copied
  into gunicorn.conf.py): the settings file, the default sizing, rolling reloads.

Shell:

- ``_charm``: ``FlaskCharm``, every event one reconcile.
- ``_juju_state``: Juju read into the ``CharmState``; ``_juju_relations``: requests written
  to and answers read from the relations; ``_juju_secrets``: Juju secrets (secret options,
  the generated key); ``_juju_observability``: the metrics-endpoint and grafana-dashboard
  providers.
- ``_pebble_apply``: the only module that talks to Pebble; applies a plan idempotently.
- ``local``: the charm's workload path on this machine, under a real Pebble (``make run``).
"""

from __future__ import annotations

import importlib
import typing

# The public surface: these names, importable from the package, and what they are documented
# with. Each is loaded on first use, so importing the package costs a hook nothing.
_PUBLIC = {
    "FlaskCharm": "_charm",
    "metadata_problems": "_charm",
    "WorkloadSpec": "_spec",
    "FLASK": "_spec",
    "CharmState": "_state",
    "Integrations": "_state",
    "Unit": "_state",
    "Reads": "_state",
    "StatusError": "_status",
    "Blocked": "_status",
    "Waiting": "_status",
    "Missing": "_status",
    "Redactor": "_status",
    "Requirer": "_requirer",
    "Databag": "_requirer",
    "Context": "_requirer",
    "RemoteData": "_requirer",
    "NotReady": "_requirer",
    "InvalidData": "_requirer",
    "Hooks": "_pebble_apply",
    "WorkloadPlan": "_workload_plan",
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
    # Absolute: a relative import here would bind each private module as a name of this
    # package, and pyright would call the package's own `from . import _state` private usage.
    from flask_k8s._charm import FlaskCharm, metadata_problems
    from flask_k8s._pebble_apply import Hooks
    from flask_k8s._record import replace
    from flask_k8s._requirer import Context, Databag, InvalidData, NotReady, RemoteData, Requirer
    from flask_k8s._spec import FLASK, WorkloadSpec
    from flask_k8s._state import CharmState, Integrations, Reads, Unit
    from flask_k8s._status import Blocked, Missing, Redactor, StatusError, Waiting
    from flask_k8s._workload_plan import WorkloadPlan


def __getattr__(name: str) -> object:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'flask_k8s' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
