"""Label matchers added to every selector of a PromQL expression.

An alert rule of the charm must only look at the application's own series, whatever the
author wrote: ``up == 0`` becomes ``up{juju_model="m",...} == 0``. A small lexer finds the
selectors (a metric name, a ``{...}`` matcher list or both); everything else (strings,
comments, ranges, durations, function names, keywords, ``by (...)`` label lists) is copied
as it is. Matchers are added, never removed: an author's own matchers still narrow the query.
"""

from __future__ import annotations

import collections.abc
import re

# Words PromQL's lexer always reads as keywords, never as metric names.
KEYWORDS = frozenset(
    {
        # Binary operators and modifiers.
        "and",
        "or",
        "unless",
        "atan2",
        "bool",
        "offset",
        # Aggregation operators (they may be followed by `by (...)` before their arguments).
        "sum",
        "avg",
        "count",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "count_values",
        "quantile",
        "limitk",
        "limit_ratio",
        # Number literals.
        "inf",
        "nan",
    }
)
# Keywords followed by a list of label names, which are not selectors.
LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
# cos-lib's placeholder for the topology matchers; a rule may use it, the matchers are added
# to every selector anyway.
PLACEHOLDER = re.compile(r"%%juju_topology%%\s*,?")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"[0-9.][0-9A-Za-z_.]*")
_VARIABLE = re.compile(r"\$(\{[^}]*\}|[A-Za-z0-9_]*)")


class InvalidExpression(ValueError):
    """The expression cannot be read: an unterminated string, brace or bracket."""


def inject(expr: str, matchers: collections.abc.Mapping[str, str]) -> str:
    """``expr`` with ``name="value"`` matchers in each of its selectors."""
    expr = PLACEHOLDER.sub("", expr)
    if not matchers:
        return expr
    added = ",".join(f'{name}="{_escape(value)}"' for name, value in matchers.items())
    out: list[str] = []
    i, end = 0, len(expr)
    while i < end:
        char = expr[i]
        if char in "\"'`":
            stop = _string_end(expr, i)
            out.append(expr[i:stop])
        elif char == "#":
            newline = expr.find("\n", i)
            stop = end if newline == -1 else newline
            out.append(expr[i:stop])
        elif char == "{":
            close = _closing(expr, i, "}")
            out.append("{" + _merge(expr[i + 1 : close], added) + "}")
            stop = close + 1
        elif char == "[":
            stop = _closing(expr, i, "]") + 1
            out.append(expr[i:stop])
        elif char == "$":  # A Grafana variable such as $__rate_interval.
            match = _VARIABLE.match(expr, i)
            stop = match.end() if match else i + 1
            out.append(expr[i:stop])
        elif (number := _NUMBER.match(expr, i)) and (char.isdigit() or _digit_at(expr, i + 1)):
            stop = number.end()
            out.append(expr[i:stop])
        elif identifier := _IDENTIFIER.match(expr, i):
            stop = identifier.end()
            word = identifier.group()
            following = _skip_space(expr, stop)
            next_char = expr[following : following + 1]
            if word.lower() in LABEL_LISTS and next_char == "(":
                stop = _closing(expr, following, ")") + 1
                out.append(expr[i:stop])
            elif (
                word.lower() in KEYWORDS or word.lower() in LABEL_LISTS or next_char in ("(", "{")
            ):
                out.append(word)
            else:
                out.append(f"{word}{{{added}}}")
        else:
            stop = i + 1
            out.append(char)
        i = stop
    return "".join(out)


def inject_logql(expr: str, matchers: collections.abc.Mapping[str, str]) -> str:
    """A LogQL ``expr`` with ``name="value"`` matchers in each of its stream selectors.

    In LogQL, braces outside strings only ever open a stream selector (``{app="x"} |= "y"``),
    so each ``{...}`` gets the matchers; pipeline words (``json``, ``logfmt``) are left alone.
    """
    expr = PLACEHOLDER.sub("", expr)
    if not matchers:
        return expr
    added = ",".join(f'{name}="{_escape(value)}"' for name, value in matchers.items())
    out: list[str] = []
    i = 0
    while i < len(expr):
        char = expr[i]
        if char in "\"'`":
            stop = _string_end(expr, i)
            out.append(expr[i:stop])
        elif char == "{":
            stop = _closing(expr, i, "}") + 1
            out.append("{" + _merge(expr[i + 1 : stop - 1], added) + "}")
        else:
            stop = i + 1
            out.append(char)
        i = stop
    return "".join(out)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _merge(inner: str, added: str) -> str:
    existing = inner.strip().rstrip(",").strip()
    return f"{existing},{added}" if existing else added


def _digit_at(expr: str, index: int) -> bool:
    return index < len(expr) and expr[index].isdigit()


def _skip_space(expr: str, index: int) -> int:
    while index < len(expr) and expr[index].isspace():
        index += 1
    return index


def _string_end(expr: str, start: int) -> int:
    """The index just after the string literal that starts at ``start``."""
    quote = expr[start]
    i = start + 1
    while i < len(expr):
        if expr[i] == "\\" and quote != "`":
            i += 2
            continue
        if expr[i] == quote:
            return i + 1
        i += 1
    raise InvalidExpression(f"unterminated string starting at character {start + 1}")


def _closing(expr: str, start: int, close: str) -> int:
    """The index of the ``close`` that ends the group opened at ``start``; strings skipped."""
    i = start + 1
    while i < len(expr):
        char = expr[i]
        if char in "\"'`":
            i = _string_end(expr, i)
            continue
        if char == close:
            return i
        i += 1
    raise InvalidExpression(f"{expr[start]!r} at character {start + 1} is never closed")
