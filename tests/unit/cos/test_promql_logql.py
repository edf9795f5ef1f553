"""LogQL rules are scoped by adding the topology to every stream selector."""

from __future__ import annotations

import pytest

from flask_k8s._cos import promql

MATCHERS = {"juju_model": "prod", "juju_application": "flask-k8s"}
ADDED = 'juju_model="prod",juju_application="flask-k8s"'


@pytest.mark.parametrize(
    ("expr", "scoped"),
    [
        ('{app="x"} |= "error"', f'{{app="x",{ADDED}}} |= "error"'),
        (
            'sum(count_over_time({job="x"} | json | level="error" [5m])) > 0',
            f'sum(count_over_time({{job="x",{ADDED}}} | json | level="error" [5m])) > 0',
        ),
        ('{} |= "a"', f'{{{ADDED}}} |= "a"'),
        ('{%%juju_topology%%} |= "a"', f'{{{ADDED}}} |= "a"'),
        (
            '{app="x"} | line_format "{{.msg}}"',
            f'{{app="x",{ADDED}}} | line_format "{{{{.msg}}}}"',
        ),
    ],
)
def test_every_stream_selector_gets_the_topology_and_strings_stay(expr, scoped):
    assert promql.inject_logql(expr, MATCHERS) == scoped


def test_an_unclosed_selector_is_an_invalid_expression():
    with pytest.raises(promql.InvalidExpression):
        promql.inject_logql('{app="x" |= "a"', MATCHERS)
