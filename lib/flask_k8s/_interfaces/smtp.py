"""smtp: the mail server the smtp-integrator points the app to.

The requirer writes nothing; the provider's application databag holds the server (``host``,
``port``), how to log in (``auth_type``, ``user``, the password in the secret named by
``password_id`` under the key ``password``, or in plain ``password`` without secrets) and how
to connect (``transport_security``, ``skip_ssl_verify``, ``domain``).

Variables are paas-charm's ``SMTP_*``. As there, an ``auth_type`` or ``transport_security`` of
exactly ``none`` is left out, so that an app written for paas-charm sees the same environment
(paas-charm's filter also drops any substring of "none", such as ``""`` or ``on``; this one
drops ``none`` only). ``SMTP_SKIP_SSL_VERIFY`` is always set, ``False`` unless the provider
says ``True``, like the provider library's default.
"""

from __future__ import annotations

from . import common

AUTH_TYPES = ("none", "not_provided", "plain")
TRANSPORT_SECURITIES = ("none", "starttls", "tls")
# Values that mean "nothing to configure": left out, as paas-charm does.
OMITTED = "none"


def request(context: common.Context, local_app: common.Bag) -> dict[str, str]:
    """Nothing: the integrator answers whoever relates to it."""
    return {}


def port(text: str) -> int:
    """The port as a number, or InvalidData unless it is an integer from 1 to 65535."""
    port = common.port_number(text)
    if port is None:
        raise common.InvalidData("port must be an integer from 1 to 65535")
    return port


def choice(bag: common.Bag, field: str, allowed: tuple[str, ...]) -> str | None:
    """A field that must be one of ``allowed`` when present."""
    value = common.text_field(bag, field)
    if value is not None and value not in allowed:
        raise common.InvalidData(f"{field} must be one of {', '.join(allowed)}")
    return value


def skip_ssl_verify(bag: common.Bag) -> str:
    """``True`` or ``False``, whatever the case the provider wrote it in."""
    value = common.text_field(bag, "skip_ssl_verify")
    if value is None:
        return "False"
    if value.lower() not in ("true", "false"):
        raise common.InvalidData("skip_ssl_verify must be True or False")
    return value.capitalize()


def environment(
    context: common.Context, data: common.RemoteData, read_secret: common.SecretReader
) -> dict[str, str]:
    """``SMTP_*`` from the integrator's answer; NotReady until it has sent a server."""
    bag = data.app
    host = common.text_field(bag, "host")
    port_text = common.text_field(bag, "port")
    if host is None and port_text is None:
        raise common.NotReady("waiting for the provider to send the SMTP server")
    if host is None:
        raise common.InvalidData("the provider sent a port but no host")
    if port_text is None:
        raise common.InvalidData("the provider sent a host but no port")
    env = {"SMTP_HOST": host, "SMTP_PORT": str(port(port_text))}
    auth_type = choice(bag, "auth_type", AUTH_TYPES)
    transport_security = choice(bag, "transport_security", TRANSPORT_SECURITIES)
    optional = {
        "SMTP_USER": common.text_field(bag, "user"),
        "SMTP_PASSWORD": common.secret_or_plain(bag, "password_id", "password", read_secret),
        "SMTP_AUTH_TYPE": None if auth_type == OMITTED else auth_type,
        "SMTP_TRANSPORT_SECURITY": None if transport_security == OMITTED else transport_security,
        "SMTP_DOMAIN": common.text_field(bag, "domain"),
    }
    env.update({name: value for name, value in optional.items() if value})
    env["SMTP_SKIP_SSL_VERIFY"] = skip_ssl_verify(bag)
    return env
