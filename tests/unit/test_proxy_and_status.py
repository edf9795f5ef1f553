"""The model's proxy settings, and the statuses a reconcile ends in."""

import logging

import ops
import pytest

from flask_k8s import _proxy as proxy
from flask_k8s import _status as status


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

    assert ops.StatusBase.from_name(error.name, error.message) == status_type("something to say")
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


def test_redact_hides_short_and_all_digit_values_too():
    assert status.redact("pin 4711 for ab", ("ab", "4711")) == "pin *** for ***"


def test_redact_without_secrets_changes_nothing():
    assert status.redact("plain text", ()) == "plain text"


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("p@ss:w/rd", "postgresql://u:p%40ss%3Aw%2Frd@db:5432/app"),  # in a connect string
        ("p@ss w", "http://u:p%40ss+w@proxy"),  # as a form value
        ('say "hi"\\n', '{"FLASK_X": "say \\"hi\\"\\\\n"}'),  # JSON-escaped
        ("pässwörd", '{"FLASK_X": "p\\u00e4ssw\\u00f6rd"}'),  # JSON, ASCII only
        ("tab\there", "'tab\\there'"),  # a Python literal
        ("  padded\n", "FLASK_X=padded"),  # stripped, as output lines are
    ],
)
def test_redact_hides_every_form_the_charm_writes_a_value_in(secret, shown):
    assert "***" in status.redact(shown, (secret,))
    assert not any(form in status.redact(shown, (secret,)) for form in status.forms(secret))


def test_redact_hides_a_value_that_the_marker_itself_would_spell():
    assert "*" not in status.redact("a*b**c", ("*",))


def test_redact_hides_a_value_that_the_replacements_keep_rebuilding():
    # Whatever the marker, "x" between two halves of a secret may rebuild it: dropped.
    text = status.redact("***[hidden]", ("*", "[", "h"))

    assert not any(char in text for char in "*[h")


def test_url_credentials_finds_the_login_raw_and_decoded():
    assert status.url_credentials("http://us%40r:p%2Fw@squid:3128") == [
        "us%40r:p%2Fw",
        "us%40r",
        "p%2Fw",
        "us@r:p/w",
        "us@r",
        "p/w",
    ]
    assert status.url_credentials("http://squid:3128") == []


def test_the_backstop_leaves_short_values_in_the_charms_own_words():
    redactor = status.Redactor()
    redactor.add("a", "hunter22", "", None)

    assert redactor.backstop("a password hunter22") == "a password ***"
    assert redactor("a password hunter22") == "*** p***ssword ***"


def _logged(redactor: status.Redactor, template: str, *args: object) -> str:
    """What a handler on the root logger writes for one record, through the redaction."""
    lines: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Recorder()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        status.redact_logs(redactor)
        logging.getLogger("some.library").warning(template, *args)
    finally:
        root.removeHandler(handler)
        status.redact_logs(status.Redactor())
    [line] = lines
    return line


def test_a_log_lines_arguments_are_hidden_whatever_their_length():
    redactor = status.Redactor()
    redactor.add("pw")

    assert _logged(redactor, "login %s failed %d times", "user:pw", 3) == (
        "login user:*** failed 3 times"
    )


def test_a_secret_that_spells_a_format_directive_cannot_break_a_log_line():
    # Its stripped form "s" is in every "%s": the line is formatted before the backstop.
    redactor = status.Redactor()
    redactor.add("     s", "%s    ")

    assert _logged(redactor, "connecting to %s", "db") == "connecting to db"
