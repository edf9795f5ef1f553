"""Statuses a reconcile can end in, raised as exceptions so any step can stop it."""

from __future__ import annotations

import collections.abc
import json
import logging
import typing
import urllib.parse


class StatusError(Exception):
    """Stops a reconcile; the unit shows a status of ``name`` with ``message``.

    Pure: the shell turns it into an ``ops`` status (``ops.StatusBase.from_name``), so the
    core that raises it imports no ops. Messages are written by flask-k8s and never hold a
    secret value.
    """

    name: typing.ClassVar[str] = "blocked"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Blocked(StatusError):
    """Something the user must fix: a config value, a secret, the rock."""

    name = "blocked"


class Waiting(StatusError):
    """Something that resolves itself: Pebble starting, the leader generating a key."""

    name = "waiting"


def forms(value: str) -> set[str]:
    """Every way the charm may write ``value``.

    As it is, stripped, percent-encoded (as in the connection URLs the charm builds),
    JSON-escaped and as the inside of a Python string literal (as messages quote values).
    """
    found = {value, value.strip()}
    for text in tuple(found):
        found.update(
            (
                urllib.parse.quote(text, safe=""),
                urllib.parse.quote(text),
                urllib.parse.quote_plus(text),
                json.dumps(text)[1:-1],
                json.dumps(text, ensure_ascii=False)[1:-1],
                repr(text)[1:-1],
            )
        )
    found.discard("")
    return found


def url_credentials(text: str) -> list[str]:
    """The login in a URL (``scheme://user:password@host``), raw and decoded; [] if none.

    Read without a URL parser, which refuses what a raw password may hold (``/``, ``#``).
    """
    _, sep, rest = text.partition("://")
    userinfo, at, _ = rest.rpartition("@")
    if not sep or not at:
        return []
    user, _, password = userinfo.partition(":")
    parts = [part for part in (userinfo, user, password) if part]
    return [*parts, *(urllib.parse.unquote(part) for part in parts)]


# What a hidden value becomes; the next one is used when a secret is part of the first.
_MARKERS = ("***", "[hidden]")


def redact(text: str, secrets: collections.abc.Iterable[str], min_length: int = 1) -> str:
    """``text`` with every form of every secret value hidden, whatever its length.

    Longer forms go first, so a value's encoded form is hidden whole. A value too short to
    tell from ordinary text (``a``, ``12``) is hidden all the same: a garbled message is
    better than a credential in ``juju status``.
    """
    if not text:
        return text
    found = {form for value in secrets if value for form in forms(value)}
    hidden = sorted((form for form in found if len(form) >= min_length), key=len)
    hidden.reverse()
    if not hidden:
        return text
    marker = next((m for m in _MARKERS if not any(form in m for form in hidden)), "")
    for _ in range(4):
        if not any(form in text for form in hidden):
            return text
        for form in hidden:
            text = text.replace(form, marker)
    # Markers and the text around them keep making a secret's form again: drop each form
    # instead; every pass shortens the text, so this ends.
    while (found := next((form for form in hidden if form in text), None)) is not None:
        text = text.replace(found, "")
    return text


class Redactor:
    """A hook's one redaction set: every value the charm treats as secret, as it reads it.

    Secret-typed options, the Flask secret key, relation credentials (from Juju secrets or
    plain text) and proxy credentials are added where they are read; everything the charm
    writes for people (statuses, action messages, log lines) goes through it.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, *values: object) -> None:
        """Treat each non-empty text value as a secret from now on."""
        self._values.update(value for value in values if isinstance(value, str) and value)

    @property
    def values(self) -> tuple[str, ...]:
        """The values to hide, in no particular order."""
        return tuple(self._values)

    def __call__(self, text: str) -> str:
        """``text`` with every secret value hidden: for text from outside the charm."""
        return redact(text, self._values)

    def backstop(self, text: str) -> str:
        """``text`` with every form of a secret of ``BACKSTOP_LENGTH`` or more hidden.

        For a whole message the charm composed: the parts from outside were redacted in full
        where they came in, and hiding a two-letter value in the charm's own words would only
        garble them.
        """
        return redact(text, self._values, min_length=BACKSTOP_LENGTH)


# The shortest value the last line of defence hides in the charm's own words.
BACKSTOP_LENGTH = 6


class _LogRedaction(logging.Filter):
    """Hides the current hook's secrets in every log record a handler writes."""

    def __init__(self) -> None:
        super().__init__()
        self.redactor = Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.redactor.values:
            return True
        # The arguments are what a log line quotes; its template is the code's own words. The
        # line is formatted before the backstop, which may not touch a "%s" in a template.
        args = record.args
        if isinstance(args, collections.abc.Mapping):
            args = {key: self._hide(value) for key, value in args.items()}
        elif args:
            args = tuple(self._hide(value) for value in args)
        template = record.msg if isinstance(record.msg, str) else self.redactor(str(record.msg))
        try:
            message = template % args if args else template
        except (TypeError, ValueError, KeyError):
            message = f"{template} {self.redactor(repr(record.args))}"
        record.msg, record.args = self.redactor.backstop(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True

    def _hide(self, value: object) -> object:
        # Numbers stay numbers (a "%d" needs one); anything else is shown as hidden text.
        if isinstance(value, (int, float)):
            return value
        return self.redactor(value if isinstance(value, str) else str(value))


_LOG_REDACTION = _LogRedaction()


def redact_logs(redactor: Redactor) -> None:
    """Send every log line through ``redactor``, whichever logger writes it.

    The filter sits on the root logger's handlers (ops' Juju log handler among them), so the
    records of ops and of any library are covered too. A process runs one hook, so the
    current hook's redactor replaces the previous one.
    """
    _LOG_REDACTION.redactor = redactor
    for handler in logging.getLogger().handlers:
        if _LOG_REDACTION not in handler.filters:
            handler.addFilter(_LOG_REDACTION)


class Missing(Blocked):
    """A required option or integration has no value: the app must not run without it.

    Unlike other Blocked statuses, which keep the last good settings serving, this one stops
    the app's services; the exporter keeps running.
    """
