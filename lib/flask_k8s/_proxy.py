"""The model's proxy settings, which Juju hands the charm as JUJU_CHARM_*_PROXY."""

from __future__ import annotations

import collections.abc

from . import _status

_JUJU_PROXY = {
    "HTTP_PROXY": "JUJU_CHARM_HTTP_PROXY",
    "HTTPS_PROXY": "JUJU_CHARM_HTTPS_PROXY",
    "NO_PROXY": "JUJU_CHARM_NO_PROXY",
}


def from_environ(environ: collections.abc.Mapping[str, str]) -> dict[str, str]:
    """The proxy variables for the app, upper and lower case, each only when set."""
    variables: dict[str, str] = {}
    for name, juju_name in _JUJU_PROXY.items():
        value = environ.get(juju_name, "").strip()
        if value:
            variables[name] = value
            variables[name.lower()] = value
    return variables


def credentials(environ: collections.abc.Mapping[str, str]) -> list[str]:
    """The logins in the model's proxy URLs (``http://user:password@squid:3128``)."""
    found: list[str] = []
    for juju_name in _JUJU_PROXY.values():
        found.extend(_status.url_credentials(environ.get(juju_name, "").strip()))
    return found
