"""The core (state into plan) loads no ops: it is tested, and runs, without Juju's library."""

from __future__ import annotations

import importlib
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHELL = {"flask_k8s.charm", "flask_k8s.juju", "flask_k8s.relations", "flask_k8s.secrets"}
SHELL |= {"flask_k8s.workload", "flask_k8s.local", "flask_k8s.observability"}


def _loaded_by(module: str) -> set[str]:
    """The modules a fresh interpreter has after importing ``module``."""
    script = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "lib")},
    )
    return set(json.loads(result.stdout))


def test_the_plan_and_everything_it_imports_load_no_ops():
    loaded = _loaded_by("flask_k8s.plan")

    assert "flask_k8s.state" in loaded
    assert "flask_k8s.pebble_plan" in loaded
    assert not {name for name in loaded if name == "ops" or name.startswith("ops.")}
    assert not loaded & SHELL


def test_the_status_errors_load_no_ops():
    loaded = _loaded_by("flask_k8s.status")

    assert "ops" not in loaded


def test_the_shell_is_where_ops_comes_in():
    # The check above would pass if nothing ever loaded ops: the shell does.
    assert "ops" in _loaded_by("flask_k8s.juju")


def test_the_package_declares_its_public_surface_and_loads_it_on_first_use():
    loaded = _loaded_by("flask_k8s")

    assert not {name for name in loaded if name.startswith("flask_k8s.")}
    import flask_k8s

    public = flask_k8s._PUBLIC
    assert sorted(flask_k8s.__all__) == sorted(public)
    for name in flask_k8s.__all__:
        module = importlib.import_module(f"flask_k8s.{public[name]}")
        assert getattr(flask_k8s, name) is getattr(module, name)
