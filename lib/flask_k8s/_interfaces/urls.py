"""Connection URLs: built with percent-encoded credentials, and split into variables.

Any password works in a URL built here (``@ : / ? #``, ``%`` and spaces included), and the
``_USERNAME`` / ``_PASSWORD`` variables hold the decoded values. Multi-host URLs (MongoDB
replica sets) pass through intact: ``_HOSTNAME`` and ``_PORT`` describe the first host.
"""

from __future__ import annotations

import collections.abc
import urllib.parse

from . import common


def quote(text: str) -> str:
    """Percent-encode a URL component completely (``/`` included)."""
    return urllib.parse.quote(text, safe="")


def split_host(endpoint: str) -> tuple[str, int | None]:
    """``host:port`` (``[v6]:port``, a trailing dot allowed) as host and port."""
    endpoint = endpoint.strip()
    if endpoint.startswith("["):
        host, _, rest = endpoint[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif endpoint.count(":") == 1:
        host, _, port_text = endpoint.partition(":")
    else:
        host, port_text = endpoint, ""
    if not host:
        raise common.InvalidData(f"endpoint {endpoint!r} has no host")
    if not port_text:
        return host, None
    port = common.port_number(port_text)
    if port is None:
        raise common.InvalidData(f"endpoint {endpoint!r} has an invalid port")
    return host, port


def join_host(host: str, port: int | None) -> str:
    """The netloc form of a host and port (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def build(
    scheme: str,
    hosts: collections.abc.Sequence[str],
    *,
    username: str | None = None,
    password: str | None = None,
    path: str = "",
    query: str = "",
) -> str:
    """A URL whose credentials and path are percent-encoded."""
    userinfo = ""
    if username is not None:
        userinfo = quote(username)
        if password is not None:
            userinfo += ":" + quote(password)
        userinfo += "@"
    url = f"{scheme}://{userinfo}{','.join(hosts)}"
    if path:
        url += "/" + urllib.parse.quote(path.lstrip("/"), safe="/")
    if query:
        url += "?" + query
    return url


def reencode_userinfo(url: str, username: str | None, password: str | None) -> str:
    """The URL with the credentials percent-encoded, if the provider wrote them raw.

    Providers put credentials in ``uris`` as they are; a password with ``/`` or ``#`` then
    breaks every URL parser. Knowing the credentials, the raw ``user:password@`` can be
    found and encoded.
    """
    if not username or password is None:
        return url
    scheme, sep, rest = url.partition("://")
    raw = f"{username}:{password}@"
    if sep and rest.startswith(raw):
        return f"{scheme}://{quote(username)}:{quote(password)}@{rest[len(raw) :]}"
    return url


def variables(prefix: str, url: str, database: str | None = None) -> dict[str, str]:
    """``<PREFIX>_CONNECT_STRING`` and its parts, as paas-charm names them.

    ``_NAME`` is ``database`` if given, else the path without its leading ``/`` (absent when
    empty). Credentials are decoded; absent parts are left out.
    """
    try:
        parsed = urllib.parse.urlparse(url)
    except ValueError:
        raise common.InvalidData("the connection URL cannot be parsed") from None
    env = {
        f"{prefix}_CONNECT_STRING": url,
        f"{prefix}_SCHEME": parsed.scheme,
        f"{prefix}_NETLOC": parsed.netloc,
        f"{prefix}_PATH": parsed.path,
        f"{prefix}_PARAMS": parsed.params,
        f"{prefix}_QUERY": parsed.query,
        f"{prefix}_FRAGMENT": parsed.fragment,
    }
    userinfo, at, hostinfo = parsed.netloc.rpartition("@")
    if at:
        username, colon, password = userinfo.partition(":")
        env[f"{prefix}_USERNAME"] = urllib.parse.unquote(username)
        if colon:
            env[f"{prefix}_PASSWORD"] = urllib.parse.unquote(password)
    first = hostinfo.split(",")[0]
    if first:
        try:
            host, port = split_host(first)
        except common.InvalidData:
            # A password with a raw "#" or "/" ends the netloc early: quote no part of it.
            raise common.InvalidData("the connection URL has an invalid host or port") from None
        env[f"{prefix}_HOSTNAME"] = host
        if port is not None:
            env[f"{prefix}_PORT"] = str(port)
    name = database if database is not None else urllib.parse.unquote(parsed.path.lstrip("/"))
    if name:
        env[f"{prefix}_NAME"] = name
    return env
