"""The model's proxy settings, and the statuses a reconcile ends in."""

import ops
import pytest

from flask_k8s import proxy, status


def test_each_juju_proxy_becomes_upper_and_lower_case_variables():
    variables = proxy.from_environ(
        {
            "JUJU_CHARM_HTTP_PROXY": "http://proxy:3128",
            "JUJU_CHARM_HTTPS_PROXY": "http://secure-proxy:3129",
            "JUJU_CHARM_NO_PROXY": "127.0.0.1,.internal",
        }
    )

    assert variables == {
        "HTTP_PROXY": "http://proxy:3128",
        "http_proxy": "http://proxy:3128",
        "HTTPS_PROXY": "http://secure-proxy:3129",
        "https_proxy": "http://secure-proxy:3129",
        "NO_PROXY": "127.0.0.1,.internal",
        "no_proxy": "127.0.0.1,.internal",
    }


def test_only_the_proxies_that_are_set_are_exported():
    variables = proxy.from_environ(
        {"JUJU_CHARM_HTTPS_PROXY": "http://p:1", "JUJU_CHARM_HTTP_PROXY": "", "PATH": "/bin"}
    )

    assert variables == {"HTTPS_PROXY": "http://p:1", "https_proxy": "http://p:1"}


def test_blank_proxy_is_not_exported_and_values_are_trimmed():
    variables = proxy.from_environ(
        {"JUJU_CHARM_HTTP_PROXY": "   ", "JUJU_CHARM_NO_PROXY": " localhost "}
    )

    assert variables == {"NO_PROXY": "localhost", "no_proxy": "localhost"}


def test_no_proxy_settings_no_variables():
    assert proxy.from_environ({}) == {}


@pytest.mark.parametrize(
    ("error_type", "status_type"),
    [
        (status.Blocked, ops.BlockedStatus),
        (status.Waiting, ops.WaitingStatus),
        (status.Missing, ops.BlockedStatus),
    ],
)
def test_status_errors_carry_their_status(error_type, status_type):
    error = error_type("something to say")

    assert error.status == status_type("something to say")
    assert str(error) == "something to say"


def test_missing_is_a_kind_of_blocked():
    assert issubclass(status.Missing, status.Blocked)


def test_redact_replaces_every_secret_value():
    text = "connect failed: password hunter22 rejected for token t0k3n-value (hunter22)"

    assert status.redact(text, ("hunter22", "t0k3n-value")) == (
        "connect failed: password *** rejected for token *** (***)"
    )


def test_redact_replaces_the_longest_value_first():
    assert status.redact("key=abcdef", ("abcd", "abcdef")) == "key=***"


def test_redact_leaves_values_too_short_to_be_secret():
    assert status.redact("a true value", ("a", "tru", "")) == "a true value"


def test_redact_without_secrets_changes_nothing():
    assert status.redact("plain text", ()) == "plain text"


def test_redact_leaves_plain_words_and_numbers_that_secrets_also_hold():
    text = "tls is true on port 5432 for user hunter2x"

    assert status.redact(text, ("true", "5432", "hunter2x")) == (
        "tls is true on port 5432 for user ***"
    )
