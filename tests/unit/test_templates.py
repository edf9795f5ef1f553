"""Files rendered from the charm's templates: with the app's environment and the state."""

from __future__ import annotations

import re
import sys

import pytest

import flask_k8s
from flask_k8s import _spec as spec
from flask_k8s import _state as state
from flask_k8s import _status as status
from flask_k8s import _templates as templates
from flask_k8s import _workload_plan as plan

STATE = state.CharmState(
    app_name="shop", model_name="m", unit_name="shop/0", secret_key="k-hunter2"
)


def test_a_template_gets_the_apps_environment_and_the_state():
    files = templates.render(
        {
            "/flask/app/app.toml": (
                "templates/app.toml.j2",
                "key = '{{ env.KEY }}' # {{ state.unit_name }}\n",
            )
        },
        {"KEY": "v"},
        STATE,
    )

    assert files == {"/flask/app/app.toml": "key = 'v' # shop/0\n"}


def test_an_undefined_name_blocks_naming_the_template_and_the_name():
    with pytest.raises(status.Blocked) as blocked:
        templates.render({"/a": ("t.j2", "ok\n{{ env.MISSING }}")}, {}, STATE)

    assert blocked.value.message == "template t.j2: 'dict object' has no attribute 'MISSING'"


def test_a_syntax_error_blocks_naming_the_line():
    with pytest.raises(status.Blocked) as blocked:
        templates.render({"/a": ("t.j2", "ok\n{% if %}")}, {}, STATE)

    assert blocked.value.message.startswith("template t.j2 (line 2): ")


def test_a_filter_that_fails_on_a_value_never_shows_the_value():
    with pytest.raises(status.Blocked) as blocked:
        templates.render(
            {"/a": ("t.j2", "{{ state.secret_key | int(strict=1) + [] }}")}, {}, STATE
        )

    assert "hunter2" not in blocked.value.message
    assert blocked.value.message.startswith("template t.j2")


def test_a_relative_path_is_refused():
    with pytest.raises(status.Blocked, match=re.escape("'app.toml' is not an absolute path")):
        templates.render({"app.toml": ("t.j2", "x")}, {}, STATE)


def test_without_jinja2_a_charm_with_templates_says_what_to_add(monkeypatch):
    monkeypatch.setitem(sys.modules, "jinja2", None)

    with pytest.raises(status.Blocked, match="add jinja2 to its requirements"):
        templates.render({"/a": ("t.j2", "x")}, {}, STATE)
    assert templates.render({}, {}, STATE) == {}


def test_the_plan_carries_the_files_and_a_changed_file_is_a_new_setting():
    rock = plan.RockFacts({"flask": {"command": "/bin/python3 -m gunicorn app:app"}})
    template = {"/flask/app/app.toml": ("t.j2", "{{ state.app_name }}-{{ env.FLASK_TOKEN }}")}

    def planned(token: str) -> plan.WorkloadPlan:
        charm_state = flask_k8s.replace(STATE, user_env={"FLASK_TOKEN": token}, templates=template)
        return plan.build(charm_state, rock, spec.FLASK)

    one, two = planned("one"), planned("two")
    assert one.files == {"/flask/app/app.toml": "shop-one"}
    assert one.settings != two.settings
    without = plan.build(STATE, rock, spec.FLASK)
    assert without.files == {}
