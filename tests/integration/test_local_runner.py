"""`make run`: the local runner serving the example app under a real Pebble."""

from __future__ import annotations

import pytest

from flask_k8s import local
from tests.integration.conftest import EXAMPLE_APP, URL, answers, wait_until


@pytest.fixture
def runner(rock):
    yield
    wait_until(lambda: not answers(URL), "the local runner's gunicorn to stop")


def test_local_runner_serves_the_example_app_and_stops(runner, capsys):
    assert local.main(["--app", str(EXAMPLE_APP), "--once", "token=hello"]) == 0

    assert "serving at http://localhost:8000/" in capsys.readouterr().out


def test_local_runner_reports_a_bad_option_as_the_charm_would(runner, capsys):
    assert local.main(["--app", str(EXAMPLE_APP), "--once", "webserver-workers=0"]) == 1

    assert "blocked: invalid config: webserver-workers must be at least 1" in (
        capsys.readouterr().err
    )
