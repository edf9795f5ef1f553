"""paas-config.yaml at the charm root reaches the workload, as with paas-charm."""

from __future__ import annotations

import pathlib

import yaml
from ops import testing

import charm
from flask_k8s import _config as config
from flask_k8s import _gunicorn_config as gunicorn
from flask_k8s import _spec as spec
from tests.unit.conftest import CHARM_ROOT


def charm_with(tmp_path: pathlib.Path, paas_config: str) -> testing.Context:
    root = tmp_path / "charm"
    root.mkdir()
    (root / "paas-config.yaml").write_text(paas_config)
    meta = yaml.safe_load((CHARM_ROOT / "charmcraft.yaml").read_text())
    return testing.Context(charm.FlaskK8sCharm, meta=meta, charm_root=root)


def test_json_logging_makes_gunicorn_log_json(tmp_path, workload, state):
    ctx = charm_with(tmp_path, "framework_logging_format: json\n")

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert workload.gunicorn_config == gunicorn.render_config(
        config.WebserverConfig(), spec.FLASK, json_logging=True
    )


def test_the_default_format_keeps_gunicorns_plain_lines(tmp_path, workload, state):
    ctx = charm_with(tmp_path, "framework_logging_format: none\n")

    ctx.run(ctx.on.config_changed(), state)

    assert workload.gunicorn_config == gunicorn.render_config(config.WebserverConfig(), spec.FLASK)


def test_an_invalid_file_blocks_naming_it_and_leaves_the_app_alone(tmp_path, workload, state):
    ctx = charm_with(tmp_path, "framework_logging_format: xml\n")

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert out.unit_status.message.startswith("invalid paas-config.yaml: ")
    assert "framework_logging_format" in out.unit_status.message
    assert "flask-k8s" not in out.get_container("flask-app").layers
    assert workload.gunicorn_config is None
