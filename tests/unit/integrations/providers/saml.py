"""A model of saml-integrator publishing an identity provider's metadata (§8).

Each service of the metadata becomes ``<snake_name>_<redirect|post>_url``, ``_binding``
and, when it has one, ``_response_url``; certificates are comma-joined. Which services and
bindings there are depends on the identity provider: ``POST_ONLY`` is one that offers
single sign-on through the HTTP-POST binding alone.
"""

from __future__ import annotations

import collections.abc
import re

BINDINGS = {
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect": "redirect",
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST": "post",
}
IDP = "https://login.example.com"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
# (service, binding, url, response url) as in the identity provider's metadata.
SERVICES = [
    ("SingleSignOnService", POST, f"{IDP}/saml/sso/post", None),
    ("SingleSignOnService", REDIRECT, f"{IDP}/saml/sso", None),
    ("SingleLogoutService", REDIRECT, f"{IDP}/saml/slo", f"{IDP}/saml/slo/done"),
]
# An identity provider without the HTTP-Redirect binding.
POST_ONLY = [
    ("SingleSignOnService", POST, f"{IDP}/saml/sso/post", None),
    ("SingleLogoutService", POST, f"{IDP}/saml/slo/post", f"{IDP}/saml/slo/done"),
]
CERTIFICATES = ["MIICsigningCertOne", "MIICsigningCertTwo"]


def answer(
    request: collections.abc.Mapping[str, str],
    *,
    metadata_url: str | None = f"{IDP}/saml/metadata",
    services: collections.abc.Sequence[tuple[str, str, str, str | None]] = tuple(SERVICES),
) -> tuple[dict[str, str], dict[int, dict[str, str]], dict[str, dict[str, str]]]:
    """The provider's app bag, unit bags (none) and secrets (none)."""
    del request  # saml-integrator reads nothing from the requirer.
    app = {"entity_id": f"{IDP}/saml", "x509certs": ",".join(CERTIFICATES)}
    if metadata_url:
        app["metadata_url"] = metadata_url
    for service, binding, url, response_url in services:
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", service).lower()
        key = f"{name}_{BINDINGS[binding]}"
        app[f"{key}_url"] = url
        app[f"{key}_binding"] = binding
        if response_url:
            app[f"{key}_response_url"] = response_url
    return app, {}, {}
