"""Integrations: the requirer side of each relation, one module per interface.

Every module has the same two functions, both pure (no ops call):

- ``request(context, local_app)``: what our application databag should hold (the leader
  writes it when it differs), or ``{}`` for interfaces where the requirer writes nothing.
- ``environment(context, data, read_secret)``: the app's variables from the provider's
  answer; raises ``relation.NotReady`` while the provider is still answering and
  ``relation.InvalidData`` when the answer is unusable. Never anything else, whatever the
  databags or secrets hold, and no secret value in a message.

Some have more: ``unit_request(context)`` for a unit databag (ingress) and
``log_targets(context, data)`` for Pebble log targets (logging).

Modules are imported only when a relation of their interface exists, so a charm pays for
the integrations it uses.
"""

from __future__ import annotations

import importlib
import types

# interface -> module, for every interface flask-k8s speaks.
MODULES = {
    "postgresql_client": "database",
    "mysql_client": "database",
    "mongodb_client": "database",
    "valkey_client": "valkey",
    "redis": "redis",
    "s3": "s3",
    "saml": "saml",
    "rabbitmq": "rabbitmq",
    "smtp": "smtp",
    "openfga": "openfga",
    "oauth": "oauth",
    "http_proxy": "http_proxy",
    "tracing": "tracing",
    "ingress": "ingress",
    "loki_push_api": "loki",
}


def supports(interface: str) -> bool:
    """Whether flask-k8s speaks this interface."""
    return interface in MODULES


def load(interface: str) -> types.ModuleType:
    """The module for an interface, imported on first use."""
    return importlib.import_module(f".{MODULES[interface]}", __name__)
