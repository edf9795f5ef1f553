"""No credential reaches a status, an action message or a log line, in any form.

Each test gives the charm a credential the way users and providers do, then makes the
workload print it the way programs do (an error quoting a connection URL, a dump of the
environment) and looks for it in everything the charm wrote.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import urllib.parse

import pytest
from ops import testing

MIGRATE_SH = ("bash", "-eo", "pipefail", "migrate.sh")
SECRET_OPTION = {"api-creds": {"type": "secret", "description": "credentials"}}


def failing_migration(workload, output: str) -> testing.Container:
    workload.add_app_file("migrate.sh")
    return workload.container(execs=[testing.Exec(MIGRATE_SH, return_code=1, stderr=output)])


def with_secret_option(
    workload, state: testing.State, content: dict[str, str], output: str
) -> testing.State:
    """Option api-creds names a secret holding ``content``; the migration prints ``output``."""
    creds = testing.Secret(content)
    return dataclasses.replace(
        state,
        config={"api-creds": creds.id or ""},
        secrets={*state.secrets, creds},
        containers={failing_migration(workload, output)},
    )


def shown(ctx: testing.Context, out: testing.State) -> list[str]:
    """Every message the charm wrote for people in the run."""
    statuses = [out.unit_status, out.app_status, *ctx.unit_status_history]
    return [status.message for status in statuses] + [line.message for line in ctx.juju_log]


def rabbitmq(password: str) -> testing.Relation:
    return testing.Relation(
        "rabbitmq", remote_app_data={"hostname": "rabbitmq-k8s.m.svc", "password": password}
    )


def test_a_plain_text_relation_password_is_hidden_in_a_failed_migration(ctx, workload, state):
    # rabbitmq-k8s sends its password in the databag, never in a secret.
    password = "rabbit-pw-Qz8"
    state = dataclasses.replace(
        state,
        relations={*state.relations, rabbitmq(password)},
        containers={failing_migration(workload, f"cannot log in with {password}")},
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("migration failed: cannot log in with ***")


def test_a_password_is_hidden_in_the_percent_encoded_form_of_the_connect_string(
    ctx, workload, state
):
    password = "p@ss:w/rd#1"
    user = testing.Secret({"username": "relation-7", "password": password}, owner=None)
    db = testing.Relation(
        "postgresql",
        remote_app_data={"endpoints": "db:5432", "secret-user": user.id or ""},
    )
    url = f"postgresql://relation-7:{urllib.parse.quote(password, safe='')}@db:5432/flask-k8s"
    state = dataclasses.replace(
        state,
        relations={*state.relations, db},
        secrets={*state.secrets, user},
        containers={failing_migration(workload, f"could not connect to {url}")},
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert "p%40ss" not in out.unit_status.message
    assert out.unit_status.message.startswith("migration failed: could not connect to")


def test_a_secret_ending_in_a_newline_is_hidden_in_the_line_a_program_printed(
    make_ctx, workload, state
):
    # A Juju secret made from a file keeps the file's last newline.
    state = with_secret_option(
        workload, state, {"password": "s3cr3t-v4lue\n"}, "FLASK_API_CREDS_PASSWORD=s3cr3t-v4lue\n"
    )
    ctx = make_ctx(SECRET_OPTION)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "migration failed: FLASK_API_CREDS_PASSWORD=***"
    )


def test_a_secret_spanning_lines_is_hidden_whole_before_the_last_line_is_shown(
    make_ctx, workload, state
):
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n-----END KEY-----"
    state = with_secret_option(workload, state, {"key": key}, f"bad key:\n{key}")
    ctx = make_ctx(SECRET_OPTION)

    out = ctx.run(ctx.on.config_changed(), state)

    # The last line is the secret's own last line: hidden, not shown as a piece of it.
    assert out.unit_status == testing.BlockedStatus("migration failed: ***")


@pytest.mark.parametrize("value", ["4711", "xq", "7"])
def test_short_and_all_digit_secrets_are_hidden_in_program_output(
    make_ctx, workload, state, value
):
    state = with_secret_option(workload, state, {"pin": value}, f"FLASK_API_CREDS_PIN={value}")
    ctx = make_ctx(SECRET_OPTION)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus("migration failed: FLASK_API_CREDS_PIN=***")


def test_a_json_escaped_secret_is_hidden_in_a_json_dump_of_the_environment(
    make_ctx, workload, state
):
    value = 'pa"ss\\wörd'
    dump = json.dumps({"FLASK_API_CREDS_PASSWORD": value})
    state = with_secret_option(workload, state, {"password": value}, dump)
    ctx = make_ctx(SECRET_OPTION)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        'migration failed: {"FLASK_API_CREDS_PASSWORD": "***"}'
    )


def test_the_model_proxy_login_is_hidden(ctx, workload, state, monkeypatch):
    monkeypatch.setenv("JUJU_CHARM_HTTP_PROXY", "http://proxy-user:pr0xy%2Fpw@squid:3128")
    output = "HTTP_PROXY=http://proxy-user:pr0xy%2Fpw@squid:3128 refused pr0xy/pw"
    state = dataclasses.replace(state, containers={failing_migration(workload, output)})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "migration failed: HTTP_PROXY=http://***@squid:3128 refused ***"
    )


def test_a_provider_message_quoting_a_plain_password_is_hidden(ctx, state):
    # A raw "#" in a password cuts the netloc short: the host:port the charm complains
    # about is the user name and the start of the password.
    db = testing.Relation(
        "postgresql",
        remote_app_data={
            "endpoints": "db:5432",
            "username": "operator",
            "password": "pw-Kq2#x",
            "uris": "postgresql://operator:pw-Kq2#x@db:5432/flask-k8s",
        },
    )
    state = dataclasses.replace(state, relations={*state.relations, db})

    out = ctx.run(ctx.on.config_changed(), state)

    assert all("pw-Kq2" not in text and "operator" not in text for text in shown(ctx, out))


def test_log_lines_hide_secrets_in_their_arguments_and_tracebacks(ctx, state, monkeypatch):
    state = dataclasses.replace(state, config={"flask-secret-key": "k3y-in-config"})
    logger = logging.getLogger("some.library")

    def noisy_publish(*args, **kwargs):
        logger.warning("connecting with %s", "k3y-in-config")
        try:
            raise RuntimeError("k3y-in-config rejected")
        except RuntimeError:
            logger.exception("failed")

    monkeypatch.setattr("flask_k8s._juju_relations.publish", noisy_publish)

    out = ctx.run(ctx.on.config_changed(), state)

    lines = [line.message for line in ctx.juju_log]
    assert any("connecting with ***" in line for line in lines)
    assert any("RuntimeError: *** rejected" in line for line in lines)
    assert all("k3y-in-config" not in text for text in shown(ctx, out))
