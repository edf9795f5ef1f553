"""The core (state into plan) loads no ops: it is tested, and runs, without Juju's library."""

from __future__ import annotations

import importlib
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The shell is named for what it talks to: the charm, Juju (through ops.Model) and Pebble.
SHELL_PREFIXES = ("flask_k8s._charm", "flask_k8s._juju_", "flask_k8s._pebble_apply")
PACKAGE = ROOT / "lib" / "flask_k8s"


def _modules() -> list[str]:
    """Every module of the package, by dotted name."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _is_shell(module: str) -> bool:
    return module == "flask_k8s.local" or module.startswith(SHELL_PREFIXES)


SHELL = {module for module in _modules() if _is_shell(module)}


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
    loaded = _loaded_by("flask_k8s._workload_plan")

    assert "flask_k8s._state" in loaded
    assert "flask_k8s._pebble_layer" in loaded
    assert not {name for name in loaded if name == "ops" or name.startswith("ops.")}
    assert not loaded & SHELL


def test_the_status_errors_load_no_ops():
    loaded = _loaded_by("flask_k8s._status")

    assert "ops" not in loaded


def test_the_shell_is_where_ops_comes_in():
    # The check above would pass if nothing ever loaded ops: the shell does.
    assert "ops" in _loaded_by("flask_k8s._juju_state")


def test_a_module_imports_ops_exactly_when_its_name_says_it_is_shell():
    for module in _modules():
        source = PACKAGE.parent / (module.replace(".", "/") + ".py")
        if not source.exists():
            source = PACKAGE.parent / module.replace(".", "/") / "__init__.py"
        imports_ops = any(
            line.strip() in ("import ops", "import ops.pebble")
            or line.strip().startswith("from ops")
            for line in source.read_text().splitlines()
        )
        assert imports_ops == _is_shell(module), module


def test_implementation_modules_are_private_and_only_the_runner_is_public():
    public = [m for m in _modules() if not any(p.startswith("_") for p in m.split(".")[1:])]
    assert public == ["flask_k8s", "flask_k8s.local"]


def test_the_package_declares_its_public_surface_and_loads_it_on_first_use():
    loaded = _loaded_by("flask_k8s")

    assert not {name for name in loaded if name.startswith("flask_k8s.")}
    import flask_k8s

    public = flask_k8s._PUBLIC
    assert sorted(flask_k8s.__all__) == sorted(public)
    for name in flask_k8s.__all__:
        module = importlib.import_module(f"flask_k8s.{public[name]}")
        assert getattr(flask_k8s, name) is getattr(module, name)
