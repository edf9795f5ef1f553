"""saml: the identity provider's metadata, as saml-integrator publishes it.

The requirer writes nothing. The provider's application bag holds ``entity_id``, an
optional ``metadata_url``, ``x509certs`` (the signing certificates, comma-joined) and a
group of keys per service of the metadata, such as
``single_sign_on_service_redirect_url``. The app gets what a service provider needs to
send users to the identity provider and check its answers: the entity ID, the
single-sign-on redirect URL and the first certificate, as with paas-charm.
"""

from __future__ import annotations

from . import relation


def request(context: relation.Context, local_app: relation.Bag) -> dict[str, str]:
    """Nothing: saml-integrator answers any relation."""
    return {}


def environment(
    context: relation.Context, data: relation.RemoteData, read_secret: relation.SecretReader
) -> dict[str, str]:
    """``SAML_*`` from the provider's metadata."""
    entity_id = relation.text_field(data.app, "entity_id")
    sign_on_url = relation.url_field(data.app, "single_sign_on_service_redirect_url")
    certificates_text = relation.text_field(data.app, "x509certs")
    if not entity_id or not sign_on_url or not certificates_text:
        raise relation.NotReady(
            "waiting for the provider to send entity_id, "
            "single_sign_on_service_redirect_url and x509certs"
        )
    certificates = [cert.strip() for cert in certificates_text.split(",") if cert.strip()]
    if not certificates:
        raise relation.InvalidData("x509certs holds no certificate")
    env = {
        "SAML_ENTITY_ID": entity_id,
        "SAML_SINGLE_SIGN_ON_REDIRECT_URL": sign_on_url,
        "SAML_SIGNING_CERTIFICATE": certificates[0],
    }
    metadata_url = relation.url_field(data.app, "metadata_url")
    if metadata_url:
        env["SAML_METADATA_URL"] = metadata_url
    return env
