"""logging (loki_push_api): Pebble forwards every service's output to Loki.

Each Loki unit publishes its push URL in its unit databag (``endpoint = {"url": ...}``); a
coordinated Loki publishes the same URL from several units, so targets are deduplicated by URL.
The charm adds one Pebble log target per URL to its layer, for all services, labelled with the
Juju topology (Pebble adds ``pebble_service`` itself). gunicorn logs to stdout, so its access
and error logs are forwarded with the rest. The requirer tells Loki its topology in its
application databag (``metadata``) with the charm author's LogQL alert rules
(``alert_rules``, from ``cos_custom/loki_alert_rules``, scoped to the application).
"""

from __future__ import annotations

import json
import logging
import typing

from . import common

logger = logging.getLogger(__name__)


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """Our topology and alert rules, for Loki's ruler."""
    metadata = {
        "model": context.model_name,
        "model_uuid": context.model_uuid,
        "application": context.app_name,
        "unit": context.unit_name,
        "charm_name": context.charm_name,
    }
    return {
        "metadata": json.dumps(metadata, sort_keys=True),
        "alert_rules": json.dumps(alert_rules(context), sort_keys=True),
    }


def alert_rules(context: common.Context) -> dict[str, typing.Any]:
    """The charm author's LogQL rules (``cos_custom/loki_alert_rules``), scoped to the app.

    Each stream selector gets the topology matchers, so a rule only reads this application's
    logs; a file that cannot be used is logged and left out.
    """
    if context.charm_dir is None:
        return {"groups": []}
    from .._cos import assets, promql, rules, topology  # noqa: PLC0415 (only with Loki)

    files, problems = assets.load(assets.LOKI_RULES, context.charm_dir)
    topo = topology.Topology(
        model=context.model_name,
        model_uuid=context.model_uuid,
        application=context.app_name,
        unit=context.unit_name,
        charm_name=context.charm_name,
    )
    result, skipped = rules.alert_rules(files, topo, promql.inject_logql)
    for problem in [*problems, *skipped]:
        logger.warning("loki alert rules: %s", problem)
    return result


def _push_url(bag: common.Bag) -> str | None:
    raw = bag.get("endpoint")
    if not raw:
        return None
    try:
        endpoint = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        raise common.InvalidData("a unit's endpoint is not valid JSON") from None
    url = endpoint.get("url") if common.is_json_object(endpoint) else None
    if not isinstance(url, str):
        raise common.InvalidData("a unit's endpoint has no url")
    if not common.is_http_url(url):
        raise common.InvalidData("a unit's endpoint url is not an http(s) URL")
    return url


def log_targets(
    context: common.Context, data: common.RemoteData
) -> dict[str, dict[str, typing.Any]]:
    """One Pebble log target per distinct push URL, named after the first unit giving it."""
    labels = {"product": "Juju", "charm": context.charm_name, **context.topology}
    labels.pop("juju_charm", None)
    targets: dict[str, dict[str, typing.Any]] = {}
    urls: set[str] = set()
    for unit in sorted(data.units, key=lambda name: (len(name), name)):
        url = _push_url(data.units[unit])
        if url is None or url in urls:
            continue
        urls.add(url)
        targets[unit] = {
            "override": "replace",
            "type": "loki",
            "location": url,
            "services": ["all"],
            "labels": {key: value for key, value in labels.items() if value},
        }
    if not targets:
        raise common.NotReady("waiting for Loki to publish its push URL")
    return targets


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """No variables: logs leave through Pebble. Checks the answer like ``log_targets``."""
    log_targets(context, data)
    return {}
