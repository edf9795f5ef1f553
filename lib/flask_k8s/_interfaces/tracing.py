"""tracing (v2): where the app sends its traces, as OpenTelemetry's standard variables.

The requirer asks for an ``otlp_http`` receiver in its application databag (``receivers``);
the provider (Tempo) answers with the receivers it serves and their URLs. The app's
OpenTelemetry SDK reads ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_PROTOCOL``,
``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` (the Juju topology under the label names
COS uses, ``juju_model``, ``juju_application``, ``juju_unit``..., so traces can be told apart
and joined with the app's metrics and logs) with no code.
"""

from __future__ import annotations

import json
import urllib.parse

from . import common

PROTOCOL = "otlp_http"


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """Ask for an OTLP over HTTP receiver."""
    return {"receivers": json.dumps([PROTOCOL])}


def endpoint(data: common.RemoteData) -> str:
    """The URL of the provider's otlp_http receiver."""
    receivers = common.json_field(data.app, "receivers", list)
    if receivers is None:
        raise common.NotReady("waiting for the provider to publish its receivers")
    for receiver in receivers:
        if not common.is_json_object(receiver):
            raise common.InvalidData("receivers must be a list of objects")
        protocol = receiver.get("protocol")
        name = protocol.get("name") if common.is_json_object(protocol) else None
        if name != PROTOCOL:
            continue
        url = receiver.get("url")
        if isinstance(url, str) and common.is_http_url(url):
            return url
        raise common.InvalidData(f"the {PROTOCOL} receiver has no valid http(s) URL")
    raise common.InvalidData(f"the provider offers no {PROTOCOL} receiver")


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """OTEL_* variables for the provider's otlp_http receiver."""
    attributes = ",".join(
        f"{key}={urllib.parse.quote(value, safe='')}"
        for key, value in context.topology.items()
        if value
    )
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint(data),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SERVICE_NAME": context.app_name,
        "OTEL_RESOURCE_ATTRIBUTES": attributes,
    }
