"""saml: the identity provider's metadata, as saml-integrator publishes it.

The requirer writes nothing. The provider's application bag holds ``entity_id``, an
optional ``metadata_url``, ``x509certs`` (the signing certificates, comma-joined) and a
group of keys per service and binding of the metadata, such as
``single_sign_on_service_redirect_url`` and ``single_sign_on_service_post_url``.

As with paas-charm, the entity ID and a certificate are what the app needs; the
single-sign-on URL is the HTTP-Redirect binding's, exported when the identity provider
offers that binding (one that offers only HTTP-POST has none).
"""

from __future__ import annotations

from . import common

REDIRECT_URL = "single_sign_on_service_redirect_url"
REDIRECT_BINDING = "single_sign_on_service_redirect_binding"


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """Nothing: saml-integrator answers any relation."""
    return {}


def sign_on_redirect_url(app: common.Bag) -> str | None:
    """The HTTP-Redirect single-sign-on URL, None when the provider offers none.

    saml-integrator names the key after the binding, so the binding sent with it says
    redirect; paas-charm leaves the URL out when that binding names another one.
    """
    url = common.url_field(app, REDIRECT_URL)
    binding = common.text_field(app, REDIRECT_BINDING)
    if binding is not None and "redirect" not in binding.lower():
        return None
    return url


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``SAML_*`` from the provider's metadata."""
    entity_id = common.text_field(data.app, "entity_id")
    certificates_text = common.text_field(data.app, "x509certs")
    sign_on_url = sign_on_redirect_url(data.app)
    metadata_url = common.url_field(data.app, "metadata_url")
    if not entity_id or not certificates_text:
        raise common.NotReady("waiting for the provider to send entity_id and x509certs")
    certificates = [cert.strip() for cert in certificates_text.split(",") if cert.strip()]
    if not certificates:
        raise common.InvalidData("x509certs holds no certificate")
    env = {"SAML_ENTITY_ID": entity_id, "SAML_SIGNING_CERTIFICATE": certificates[0]}
    if metadata_url:
        env["SAML_METADATA_URL"] = metadata_url
    if sign_on_url:
        env["SAML_SINGLE_SIGN_ON_REDIRECT_URL"] = sign_on_url
    return env
