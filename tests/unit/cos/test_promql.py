"""Topology matchers reach every selector of a PromQL expression, and nothing else."""

from __future__ import annotations

import pytest

from flask_k8s._cos import promql

M = {"juju_model": "m", "juju_application": "a"}
T = 'juju_model="m",juju_application="a"'


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("up == 0", f"up{{{T}}} == 0"),
        ("absent(up)", f"absent(up{{{T}}})"),
        ('up{job="x"}', f'up{{job="x",{T}}}'),
        ('up{job="x",}', f'up{{job="x",{T}}}'),
        ("up{}", f"up{{{T}}}"),
        ('{__name__="up"}', f'{{__name__="up",{T}}}'),
        ("foo:bar_total", f"foo:bar_total{{{T}}}"),
        ("rate(x[5m] offset 1h)", f"rate(x{{{T}}}[5m] offset 1h)"),
        ("max_over_time(x[10m:1m])", f"max_over_time(x{{{T}}}[10m:1m])"),
        ("x @ start()", f"x{{{T}}} @ start()"),
        ("x > bool 1e-3", f"x{{{T}}} > bool 1e-3"),
        ("0x1F + Inf + NaN", "0x1F + Inf + NaN"),
        ("x * .5", f"x{{{T}}} * .5"),
    ],
)
def test_each_selector_gets_the_matchers(expr, expected):
    assert promql.inject(expr, M) == expected


def test_aggregations_and_label_lists_are_not_selectors():
    expr = "sum by (juju_unit, status) (rate(flask_response_code[5m])) / on(i) group_left(x) b"

    assert promql.inject(expr, M) == (
        f"sum by (juju_unit, status) (rate(flask_response_code{{{T}}}[5m]))"
        f" / on(i) group_left(x) b{{{T}}}"
    )


def test_keywords_are_read_in_any_case():
    assert promql.inject("SUM BY (job) (x) AND y", M) == f"SUM BY (job) (x{{{T}}}) AND y{{{T}}}"


def test_trailing_by_clause_keeps_its_label_names():
    assert promql.inject("sum(x) by (job)", M) == f"sum(x{{{T}}}) by (job)"


def test_strings_and_comments_are_left_alone():
    expr = 'label_replace(up{path="a}b"}, "dst", "$1 x", "src", "(.*)") # up and down'

    assert promql.inject(expr, M) == (
        f'label_replace(up{{path="a}}b",{T}}}, "dst", "$1 x", "src", "(.*)") # up and down'
    )


def test_escaped_quotes_do_not_end_a_string():
    expr = r'up{path="a\"}b", raw=`c\`}'

    assert promql.inject(expr, M) == r'up{path="a\"}b", raw=`c\`,' + T + "}"


def test_grafana_variables_stay_variables():
    expr = "rate(x[$__rate_interval]) * $scale"

    assert promql.inject(expr, M) == f"rate(x{{{T}}}[$__rate_interval]) * $scale"


def test_cos_placeholder_is_replaced_by_the_matchers():
    assert promql.inject("up{%%juju_topology%%} < 1", M) == f"up{{{T}}} < 1"
    assert promql.inject('up{job="a", %%juju_topology%%}', M) == f'up{{job="a",{T}}}'
    assert promql.inject('up{%%juju_topology%%,job="a"}', M) == f'up{{job="a",{T}}}'


def test_values_are_escaped():
    assert promql.inject("up", {"juju_model": 'a"b\\c'}) == 'up{juju_model="a\\"b\\\\c"}'


def test_no_matchers_leave_the_expression_as_it_was():
    assert promql.inject("up == 0", {}) == "up == 0"


@pytest.mark.parametrize("expr", ['up{job="x}', "up{job='x'", "rate(x[5m)", "sum by (a"])
def test_unterminated_groups_are_reported(expr):
    with pytest.raises(promql.InvalidExpression):
        promql.inject(expr, M)
