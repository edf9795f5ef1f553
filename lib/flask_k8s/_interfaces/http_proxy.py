"""http_proxy: a forward proxy for the app's outgoing requests (http-proxy-configurator).

The requirer's application databag holds ``requests``, a JSON list with one request:
``{"auth": [], "domains": [], "requirer": <id>}``. Like paas-charm, flask-k8s asks for no
domain and no authentication method: http-proxy-configurator fills both from its own config
(squid-forward-proxy alone answers such a request ``unsupported``). The id stays the one
already in the databag, so a request written by an earlier charm keeps its answer; a new one
is derived from the model, application and endpoint names, the same on every hook and unit.

The provider answers in ``responses``, a JSON list of ``{"requirer": <id>, "status": ...}``.
Once ``ready``, ours holds ``http_proxy`` and ``https_proxy`` and may name a secret ``user``
(``username``, ``password``), which goes into the URLs percent-encoded.

Variables: ``HTTP_PROXY``/``http_proxy`` and ``HTTPS_PROXY``/``https_proxy``, each when sent;
they replace the model's proxy settings. ``NO_PROXY`` stays the model's.
"""

from __future__ import annotations

import json
import typing
import urllib.parse
import uuid

from . import common, urls

# Namespace of the ids flask-k8s derives (a fixed, random UUID).
NAMESPACE = uuid.UUID("6f1d5a0e-3c2b-4f7e-9a41-0d8e2b7c5f13")
WAITING = ("pending", "accepted")
FAILED = ("rejected", "invalid", "unsupported", "error")
READY = "ready"


def load_list(raw: typing.Any) -> list[typing.Any] | None:
    """A JSON list, or None if ``raw`` is not one (however it fails)."""
    try:
        value = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        return None
    # A JSON array: its items may be anything, each checked where it is used.
    return typing.cast("list[typing.Any]", value) if isinstance(value, list) else None


def existing_id(local_app: common.Bag) -> str | None:
    """The requirer id of the request already in our databag, if any."""
    requests = load_list(local_app.get("requests"))
    first: object = requests[0] if requests else None
    if common.is_json_object(first):
        found = first.get("requirer")
        if isinstance(found, str) and found.strip():
            return found
    return None


def requirer_id(context: common.Context, local_app: common.Bag) -> str:
    """The id of our request: the one in the databag, else one derived from our names."""
    derived = uuid.uuid5(NAMESPACE, f"{context.model_name}/{context.app_name}/{context.endpoint}")
    return existing_id(local_app) or str(derived)


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """One request, no domains or auth of our own, under a stable id."""
    wanted: dict[str, object] = {
        "auth": [],
        "domains": [],
        "requirer": requirer_id(context, local_app),
    }
    return {"requests": json.dumps([wanted], sort_keys=True)}


def our_response(
    context: common.Context, data: common.RemoteData, responses: list[typing.Any]
) -> dict[str, typing.Any] | None:
    """The response to our request, found by its id.

    A non-leader cannot read our databag; if the leader kept an id from an earlier charm,
    the only response there is is ours (we send one request per relation).
    """
    ours = requirer_id(context, data.local_app)
    candidates = [item for item in responses if common.is_json_object(item)]
    for item in candidates:
        if item.get("requirer") == ours:
            return item
    if existing_id(data.local_app) is None and len(candidates) == 1:
        return candidates[0]
    return None


def with_user(value: typing.Any, field: str, user: tuple[str, str] | None) -> str | None:
    """The proxy URL in ``field`` with the credentials inserted, or None if absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise common.InvalidData(f"{field} is not text")
    try:
        parts = urllib.parse.urlsplit(value.strip())
        _ = parts.port  # Raises ValueError for a port that is not a number.
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not parts.hostname:
        raise common.InvalidData(f"{field} is not a proxy URL (scheme://host:port)")
    if user is None:
        return parts.geturl()
    hostinfo = parts.netloc.rpartition("@")[2]
    netloc = f"{urls.quote(user[0])}:{urls.quote(user[1])}@{hostinfo}"
    return parts._replace(netloc=netloc).geturl()


def credentials(
    response: dict[str, typing.Any], read_secret: common.SecretReader
) -> tuple[str, str] | None:
    """Username and password from the ``user`` secret, if the response names one."""
    content = common.read_secret_field(response, "user", read_secret)
    if not content:
        return None
    username, password = content.get("username"), content.get("password")
    if not username or password is None:
        raise common.InvalidData("the secret in user has no username and password")
    return username, password


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """The proxy variables; NotReady until our request is ``ready``."""
    raw = data.app.get("responses")
    if raw is None or raw == "":
        raise common.NotReady("waiting for the provider to answer the proxy request")
    responses = load_list(raw)
    if responses is None:
        raise common.InvalidData("responses is not a JSON list")
    response = our_response(context, data, responses)
    if response is None:
        raise common.NotReady("waiting for the provider to answer the proxy request")
    status = response.get("status")
    if not isinstance(status, str) or not status:
        raise common.InvalidData("the response to the proxy request has no status")
    if status in WAITING:
        raise common.NotReady(f"the proxy request is {status}")
    if status in FAILED:
        raise common.InvalidData(
            f"the provider answered the proxy request with status {status}; "
            "check the provider's domains and authentication settings"
        )
    if status != READY:
        raise common.InvalidData(f"unknown status {status[:40]!r} of the proxy request")
    user = credentials(response, read_secret)
    env: dict[str, str] = {}
    for field in ("http_proxy", "https_proxy"):
        value = with_user(response.get(field), field, user)
        if value is not None:
            env[field.upper()] = value
            env[field] = value
    if not env:
        raise common.InvalidData("the ready proxy response has neither http_proxy nor https_proxy")
    return env
