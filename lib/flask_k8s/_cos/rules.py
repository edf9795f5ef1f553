"""Prometheus alert rule files, labelled with the topology and scoped to the application.

A file holds either one rule (``alert``, ``expr``, ...) or Prometheus' own format
(``groups: [{name, rules: [...]}]``). Every rule gets the topology labels, so an alert says
which application it is about, and the topology matchers in each selector of its
expression, so it only looks at that application's series (``up == 0`` must not fire for
every target Prometheus scrapes). A file that cannot be used is reported and left out: the
other files still reach Prometheus.
"""

from __future__ import annotations

import collections.abc
import json
import typing

import yaml

from .. import _config
from . import assets, promql, topology


class InvalidRules(ValueError):
    """A rule file that cannot be used, and why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


Injector = collections.abc.Callable[[str, collections.abc.Mapping[str, str]], str]


def parse(
    name: str, text: str, topo: topology.Topology, injector: Injector = promql.inject
) -> list[dict[str, typing.Any]]:
    """The rule groups of one file, ready for ``alert_rules``; raises ``InvalidRules``."""
    try:
        data = _config.load_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidRules(f"not valid YAML{where}") from None
    if data is None:
        return []
    if _is_mapping(data) and "groups" in data:
        groups = data["groups"]
        if not _is_list(groups):
            raise InvalidRules("groups must be a list")
    elif _is_mapping(data) and ("alert" in data or "record" in data):
        groups = [{"name": "rules", "rules": [data]}]
    else:
        raise InvalidRules("expected one rule (alert and expr) or groups of rules")
    seen: set[str] = set()
    result: list[dict[str, typing.Any]] = []
    for index, group in enumerate(groups, 1):
        if not _is_mapping(group):
            raise InvalidRules(f"group {index} is not a mapping")
        group_name = group.get("name")
        if not isinstance(group_name, str) or not group_name:
            raise InvalidRules(f"group {index} has no name")
        if group_name in seen:
            raise InvalidRules(f"two groups are named {group_name!r}")
        seen.add(group_name)
        group_rules = group.get("rules")
        if not _is_list(group_rules) or not group_rules:
            raise InvalidRules(f"group {group_name!r} has no rules")
        result.append(
            {
                **group,
                "name": f"{topo.identifier}_{name}_{group_name}",
                "rules": [_scoped(rule, group_name, topo, injector) for rule in group_rules],
            }
        )
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        raise InvalidRules(
            "holds values JSON cannot carry (dates, binary data or non-text keys); quote them"
        ) from None
    return result


def _is_mapping(value: object) -> typing.TypeGuard[dict[str, object]]:
    # The rule format's keys are names; its values may be anything, each checked before use.
    return isinstance(value, dict)


def _is_list(value: object) -> typing.TypeGuard[list[object]]:
    return isinstance(value, list)


def _scoped(
    rule: object, group: str, topo: topology.Topology, injector: Injector
) -> dict[str, typing.Any]:
    if not isinstance(rule, dict):
        raise InvalidRules(f"a rule of group {group!r} is not a mapping")
    rule = typing.cast("dict[str, typing.Any]", rule)
    title = rule.get("alert", rule.get("record"))
    if not isinstance(title, str) or not title:
        raise InvalidRules(f"a rule of group {group!r} has neither alert nor record name")
    expr = rule.get("expr")
    if isinstance(expr, bool) or not isinstance(expr, (str, int, float)) or expr == "":
        raise InvalidRules(f"rule {title!r} has no expr")
    labels = rule.get("labels", {})
    if not isinstance(labels, dict):
        raise InvalidRules(f"the labels of rule {title!r} are not a mapping")
    try:
        scoped_expr = injector(str(expr), topo.matchers())
    except promql.InvalidExpression as error:
        raise InvalidRules(f"rule {title!r}: {error}") from None
    return {**rule, "expr": scoped_expr, "labels": {**labels, **topo.rule_labels()}}


def alert_rules(
    files: collections.abc.Iterable[assets.File],
    topo: topology.Topology,
    injector: Injector = promql.inject,
) -> tuple[dict[str, typing.Any], list[str]]:
    """``alert_rules`` from rule files, and a problem for each file left out.

    ``injector`` scopes each expression: PromQL for Prometheus, LogQL for Loki.
    """
    groups: list[dict[str, typing.Any]] = []
    problems: list[str] = []
    for file in files:
        try:
            groups.extend(parse(file.name, file.text, topo, injector))
        except InvalidRules as invalid:
            problems.append(f"{file.source}: {invalid.message}; file skipped")
    return {"groups": groups}, problems
