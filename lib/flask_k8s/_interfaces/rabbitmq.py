"""rabbitmq: rabbitmq-k8s and the rabbitmq-server machine charm, which answer differently.

We ask (leader, application bag) for a user named after the application on the vhost
``/``. rabbitmq-k8s answers in its application bag (``hostname``, ``password``);
rabbitmq-server answers in each unit's bag and leaves the application bag empty: the
first unit by number that has both is used. There are no secrets: the password is in the
bag. The port is AMQP's 5672.

Variables, as paas-charm names them: ``RABBITMQ_CONNECT_STRING``
(``amqp://flask-k8s:pw@rabbitmq-k8s:5672/%2F``) and its parts, ``RABBITMQ_VHOST`` (``/``,
unquoted) and ``RABBITMQ_CONNECT_STRINGS`` (one URL per unit hostname, else the
application's, comma-joined). Unlike paas-charm's, the credentials are percent-encoded.
"""

from __future__ import annotations

from . import common, urls

VHOST = "/"
PORT = 5672


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """A user named after the application, on the default vhost."""
    return {"username": context.app_name, "vhost": VHOST}


def _password(bag: common.Bag) -> str | None:
    """The ``password`` of a bag, as sent (a password is not stripped)."""
    value = bag.get("password")
    if value is not None and not common.is_text(value):
        raise common.InvalidData("password is not text")
    return value or None


def _url(username: str, password: str, host: str) -> str:
    server = urls.join_host(host, PORT)
    url = urls.build("amqp", [server], username=username, password=password)
    return f"{url}/{urls.quote(VHOST)}"


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``RABBITMQ_*`` from the bag, application's or unit's, that holds host and password."""
    units = common.units_in_order(data.units)
    answers = ((common.host_field(bag, "hostname"), _password(bag)) for bag in (data.app, *units))
    host, password = next(((h, p) for h, p in answers if h and p), (None, None))
    if not host or not password:
        raise common.NotReady("waiting for the provider to send hostname and password")
    username = context.app_name
    prefix = context.endpoint.upper().replace("-", "_")
    # No _NAME: the vhost has its own variable.
    env = urls.variables(prefix, _url(username, password, host), database="")
    env[f"{prefix}_VHOST"] = VHOST
    hosts = [name for bag in units if (name := common.host_field(bag, "hostname"))] or [host]
    env[f"{prefix}_CONNECT_STRINGS"] = ",".join(_url(username, password, h) for h in hosts)
    return env
