"""One Juju hook in one fresh process: import a charm, handle config-changed, check the status.

``hook_cost.py`` times this whole process, because that is what every Juju event costs: a new
Python interpreter that imports the charm from scratch and handles a single event. Importing
ops.testing is part of both sides alike. The status is checked so a broken charm cannot look
fast.

``flask-all`` is flask-k8s with every integration related and answered, the heaviest
reconcile a user can ask for.

Usage: ``python bench/hook_one.py flask|flask-all|minimal``; exits 0 only if the charm ended as
expected.
"""

from __future__ import annotations

import json
import pathlib
import sys

import ops
import ops.testing

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
# Where each charm's modules live, put on sys.path the way Juju's dispatch does for a charm.
CHARM_PATHS = {
    "flask": (ROOT / "lib", ROOT / "src"),
    "flask-all": (ROOT / "lib", ROOT / "src"),
    "minimal": (BENCH / "minimal_charm" / "src",),
}
CHARM_CLASSES = {"flask": "FlaskK8sCharm", "flask-all": "FlaskK8sCharm", "minimal": "MinimalCharm"}
# The services rockcraft's flask-framework extension puts in the rock's Pebble layer.
ROCK_LAYER: ops.pebble.LayerDict = {
    "summary": "flask-framework rock",
    "services": {
        "flask": {
            "override": "replace",
            "startup": "enabled",
            "user": "_daemon_",
            "command": "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py 'app:app' -k [ sync ]",
        },
        "statsd-exporter": {
            "override": "merge",
            "startup": "enabled",
            "command": "/bin/statsd_exporter",
        },
    },
}


def _secret(content: dict[str, str]) -> ops.testing.Secret:
    return ops.testing.Secret(content, owner=None)


def every_relation() -> tuple[list[ops.testing.RelationBase], list[ops.testing.Secret]]:
    """Every endpoint of flask-k8s related, each provider having answered."""
    pg_user = _secret({"username": "relation-7", "password": "p@ss:/?#% w"})
    valkey_user = _secret({"username": "relation-8", "password": "vk-pw"})
    smtp_password = _secret({"password": "smtp-pw"})
    fga_token = _secret({"token": "fga-token"})
    oidc_secret = _secret({"secret": "client-secret"})
    secrets = [pg_user, valkey_user, smtp_password, fga_token, oidc_secret]
    rel = ops.testing.Relation
    relations: list[ops.testing.RelationBase] = [
        rel(
            "postgresql",
            remote_app_data={
                "database": "flask-k8s",
                "endpoints": "pg-primary:5432",
                "secret-user": pg_user.id,
            },
        ),
        rel(
            "mysql",
            remote_app_data={
                "database": "flask-k8s",
                "endpoints": "mysql-primary.m.svc.cluster.local.:3306",
                "username": "u",
                "password": "p",
            },
        ),
        rel(
            "mongodb",
            remote_app_data={
                "database": "flask-k8s",
                "endpoints": "m0:27017,m1:27017",
                "username": "u",
                "password": "p",
                "uris": "mongodb://u:p@m0:27017,m1:27017/flask-k8s?replicaSet=rs0",
            },
        ),
        rel("redis", remote_units_data={0: {"hostname": "redis-0", "port": "6379"}}),
        rel(
            "valkey",
            remote_app_data={
                "endpoints": "valkey-0:6379",
                "secret-user": valkey_user.id,
                "mode": "sentinel",
                "version": "9.0.1",
            },
        ),
        rel(
            "s3",
            remote_app_data={
                "bucket": "flask-k8s",
                "access-key": "ak",
                "secret-key": "sk",
                "endpoint": "https://s3.example.com",
                "region": "eu-west-1",
            },
        ),
        rel(
            "saml",
            remote_app_data={
                "entity_id": "https://idp.example.com/saml",
                "x509certs": "MIIC",
                "single_sign_on_service_redirect_url": "https://idp.example.com/sso",
                "single_sign_on_service_redirect_binding": "urn:redirect",
            },
        ),
        rel("rabbitmq", remote_app_data={"hostname": "rabbitmq.m.svc", "password": "rmq-pw"}),
        rel(
            "smtp",
            remote_app_data={
                "host": "mail.example.com",
                "port": "587",
                "auth_type": "plain",
                "transport_security": "starttls",
                "user": "mailer",
                "password_id": smtp_password.id,
            },
        ),
        rel(
            "openfga",
            remote_app_data={
                "store_id": "01GK13VYZK62Q1T0X55Q2BHYD6",
                "token_secret_id": fga_token.id,
                "http_api_url": "http://openfga:8080",
                "grpc_api_url": "openfga:8081",
            },
        ),
        rel(
            "oidc",
            remote_app_data={
                "issuer_url": "https://iam.example.com",
                "authorization_endpoint": "https://iam.example.com/auth",
                "token_endpoint": "https://iam.example.com/token",
                "userinfo_endpoint": "https://iam.example.com/userinfo",
                "jwks_endpoint": "https://iam.example.com/jwks",
                "client_id": "client",
                "client_secret_id": oidc_secret.id,
            },
        ),
        rel(
            "ingress",
            remote_app_data={"ingress": json.dumps({"url": "https://apps.example.com/m-app"})},
            remote_units_data={0: {"ingress-address": "10.1.0.2"}},
        ),
        rel(
            "http-proxy",
            local_app_data={
                "requests": json.dumps([{"requirer": "r-1", "domains": [], "auth": []}])
            },
            remote_app_data={
                "responses": json.dumps(
                    [
                        {
                            "requirer": "r-1",
                            "status": "ready",
                            "auth": "none",
                            "http_proxy": "http://squid:3128",
                            "https_proxy": "http://squid:3128",
                        }
                    ]
                )
            },
        ),
        rel(
            "tracing",
            remote_app_data={
                "receivers": json.dumps(
                    [
                        {
                            "protocol": {"name": "otlp_http", "type": "http"},
                            "url": "http://tempo:4318",
                        }
                    ]
                )
            },
        ),
        rel(
            "logging",
            remote_units_data={0: {"endpoint": json.dumps({"url": "http://loki:3100/push"})}},
        ),
        rel("metrics-endpoint"),
        rel("grafana-dashboard"),
    ]
    return relations, secrets


def main(side: str) -> int:
    """Handle one config-changed event with the ``side`` charm; 0 if it ends as expected."""
    sys.path[:0] = [str(path) for path in CHARM_PATHS[side]]
    import charm

    charm_type = getattr(charm, CHARM_CLASSES[side])
    container = ops.testing.Container(
        "flask-app",
        can_connect=True,
        layers={"rock": ops.pebble.Layer(ROCK_LAYER)},
        # gunicorn's --check-config of a new config, run with the rock's Python.
        execs={ops.testing.Exec(["/bin/python3"], return_code=0)},
    )
    relations, secrets = every_relation() if side == "flask-all" else ([], [])
    state = ops.testing.State(
        leader=True,
        config={"token": "abc"},
        relations={ops.testing.PeerRelation("secret-storage"), *relations},
        secrets=set(secrets),
        containers={container},
    )
    context = ops.testing.Context(charm_type)
    state_out = context.run(context.on.config_changed(), state)

    expected = ops.UnknownStatus() if side == "minimal" else ops.ActiveStatus()
    if state_out.unit_status != expected:
        print(f"{side}: expected {expected!r}, got {state_out.unit_status!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHARM_PATHS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CHARM_PATHS)}")
    sys.exit(main(sys.argv[1]))
