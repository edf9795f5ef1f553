"""A model of smtp-integrator: it answers every relation with its own settings.

The requirer writes nothing. The password goes into a Juju secret (``password_id``, key
``password``) or, without secrets, into the databag as ``password``.
"""

from __future__ import annotations

from tests.unit.integrations.providers import common

Answer = common.Answer
secret_id = common.secret_id


def answer(
    requirer_app: dict[str, str],
    *,
    host: str = "mail.example.com",
    port: int = 587,
    user: str | None = "mailer",
    password: str | None = "m@il:p/w#1",
    auth_type: str = "plain",
    transport_security: str = "starttls",
    domain: str | None = "example.com",
    skip_ssl_verify: bool = False,
    use_secrets: bool = True,
) -> Answer:
    """The integrator's databag for its configured server; ``requirer_app`` is ignored."""
    app = {
        "host": host,
        "port": str(port),
        "auth_type": auth_type,
        "transport_security": transport_security,
        "skip_ssl_verify": str(skip_ssl_verify),
    }
    if user is not None:
        app["user"] = user
    if domain is not None:
        app["domain"] = domain
    secrets: dict[str, dict[str, str]] = {}
    if password is not None:
        if use_secrets:
            uri = secret_id(f"smtp-password:{host}")
            secrets[uri] = {"password": password}
            app["password_id"] = uri
        else:
            app["password"] = password
    return Answer(app=app, secrets=secrets)
