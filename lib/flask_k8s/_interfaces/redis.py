"""redis: the legacy interface of redis-k8s, an address without credentials.

The requirer writes nothing. Each provider unit writes ``hostname`` (its pod IP) and
``port``; the application bag's ``leader-host`` names the current master, preferred when
present. redis-k8s can write the port ``None`` for a moment: that waits, where paas-charm
needed a regular expression to avoid ``redis://host:None``.

Variables: ``<ENDPOINT>_DB_CONNECT_STRING`` and its parts, e.g. ``REDIS_DB_CONNECT_STRING``
``redis://10.1.2.3:6379``; no credentials, no ``_NAME``.
"""

from __future__ import annotations

from . import common, database, urls


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """Nothing: redis-k8s answers any relation."""
    return {}


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``<ENDPOINT>_DB_*`` from the master's address and the units' port."""
    units = common.units_in_order(data.units)
    hostnames = (name for unit in units if (name := common.host_field(unit, "hostname")))
    address = common.host_field(data.app, "leader-host") or next(hostnames, None)
    # redis-k8s writes the port "None" until it knows it.
    ports = (port for unit in units if (port := common.text_field(unit, "port")))
    port = next((port for port in ports if port != "None"), None)
    if not address or not port:
        raise common.NotReady("waiting for the provider's host and port")
    number = common.port_number(port)
    if number is None:
        raise common.InvalidData(f"port {port!r} is not a port number")
    url = urls.build("redis", [urls.join_host(address, number)])
    return urls.variables(database.prefix(context), url)
