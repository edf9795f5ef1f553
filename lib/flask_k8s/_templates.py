"""Files rendered from the charm's templates into the workload, pure.

A charm author maps workload paths to Jinja2 templates shipped in the charm
(``FlaskCharm.templates``); each is rendered with the app's environment (``env``) and the
``CharmState`` (``state``), for apps that read a config file, or secrets from files instead of
variables. Undefined names are errors. Jinja2 is imported only when a charm has templates.
"""

from __future__ import annotations

import collections.abc
import importlib
import posixpath
import typing

from . import _state, _status

if typing.TYPE_CHECKING:
    import jinja2


def render(
    templates: collections.abc.Mapping[str, tuple[str, str]],
    env: collections.abc.Mapping[str, str],
    charm_state: _state.CharmState,
) -> dict[str, str]:
    """Each workload path's content: ``templates`` maps it to (template name, its text).

    A template that cannot be rendered is Blocked, naming the template and the reason
    (Jinja2's message, which names the variable, not its value).
    """
    if not templates:
        return {}
    try:
        jinja: typing.Any = importlib.import_module("jinja2")
    except ImportError:
        raise _status.Blocked(
            "the charm has templates but no jinja2: add jinja2 to its requirements"
        ) from None
    environment = typing.cast(
        "jinja2.Environment",
        jinja.Environment(
            undefined=jinja.StrictUndefined, keep_trailing_newline=True, autoescape=False
        ),
    )
    rendered: dict[str, str] = {}
    for path, (name, text) in templates.items():
        if not posixpath.isabs(path):
            raise _status.Blocked(f"template {name}: {path!r} is not an absolute path")
        try:
            rendered[path] = environment.from_string(text).render(env=dict(env), state=charm_state)
        except jinja.TemplateError as error:
            line = getattr(error, "lineno", None)
            where = f" (line {line})" if line else ""
            message = getattr(error, "message", None) or type(error).__name__
            raise _status.Blocked(f"template {name}{where}: {message}") from None
        except Exception as error:  # a filter on a value: its message may quote the value
            raise _status.Blocked(f"template {name}: {type(error).__name__}") from None
    return rendered
