"""The local runner's files and Pebble directory, before any Pebble runs.

The pure parts are in test_local.py; tests/integration runs the rest against a real Pebble.
"""

import pathlib

import ops
import pytest

from flask_k8s import local


@pytest.fixture
def rock(tmp_path: pathlib.Path) -> local.Rock:
    return local.Rock(prefix=tmp_path / "opt")


def test_rocks_own_gunicorn_config_is_what_rockcraft_writes():
    namespace: dict = {}
    exec(local.ROCK_GUNICORN_CONFIG, namespace)  # noqa: S102

    assert namespace["bind"] == ["0.0.0.0:8000"]
    assert namespace["chdir"] == "/flask/app"
    assert namespace["statsd_host"] == "localhost:9125"


def test_pebble_directory_holds_the_rocks_layer(rock, tmp_path):
    pebble = local.Pebble(rock, tmp_path / "pebble", rock.layer())

    layer = ops.pebble.Layer(
        (tmp_path / "pebble" / "layers" / "001-flask-framework.yaml").read_text()
    )
    assert set(layer.services) == {"flask", "statsd-exporter"}
    assert pebble.socket == tmp_path / "pebble" / ".pebble.socket"


def test_pebble_container_talks_to_the_pebble_socket(rock, tmp_path):
    pebble = local.Pebble(rock, tmp_path / "pebble", rock.layer())

    container = pebble.container()

    assert container.name == "flask-app"
    assert container.can_connect() is False
