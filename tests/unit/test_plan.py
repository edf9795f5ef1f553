"""The whole desired workload, computed from a CharmState and the rock's facts."""

import hashlib
import json
import typing

from flask_k8s import _config as config
from flask_k8s import _spec as spec
from flask_k8s import _state as state
from flask_k8s import _workload_plan as plan

WORKLOAD = spec.WorkloadSpec()
ROCK_SERVICES = {
    "flask": {
        "override": "replace",
        "startup": "enabled",
        "command": "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py 'app:app' -k [ sync ]",
    },
    "statsd-exporter": {"override": "merge", "command": "/bin/statsd_exporter"},
}


def _state(**kwargs: typing.Any) -> state.CharmState:
    values: dict[str, typing.Any] = {
        "app_name": "flask-k8s",
        "model_name": "m",
        "unit_name": "flask-k8s/0",
        "secret_key": "the-key",
    }
    values.update(kwargs)
    return state.CharmState(**values)


def _build(charm_state: state.CharmState, app_files: frozenset[str] = frozenset()):
    return plan.build(charm_state, plan.RockFacts(ROCK_SERVICES, app_files), WORKLOAD)


def test_plan_puts_the_environment_in_the_settings_file_not_the_flask_service():
    desired = _build(_state())

    assert desired.environment["FLASK_SECRET_KEY"] == "the-key"
    settings = json.loads(desired.settings)
    assert settings["environment"] == desired.environment
    assert "environment" not in desired.services["flask"]
    assert desired.layer["services"] is desired.services


def test_the_settings_file_changes_with_the_gunicorn_config():
    one = _build(_state(webserver=config.WebserverConfig(timeout=30)))
    two = _build(_state(webserver=config.WebserverConfig(timeout=31)))

    assert one.environment == two.environment
    assert one.settings != two.settings
    assert (
        json.loads(one.settings)["config"]
        == hashlib.sha256(one.gunicorn_config.encode()).hexdigest()
    )


def test_plan_checks_a_candidate_config_with_the_rocks_gunicorn():
    desired = _build(_state())

    assert desired.checks == (
        (
            "/bin/python3",
            "-m",
            "gunicorn",
            "-c",
            "/var/lib/flask-k8s/gunicorn.conf.py.candidate",
            "app:app",
            "-k",
            "sync",
            "--check-config",
        ),
    )


def test_candidate_config_lives_in_the_charms_state_dir():
    workload = spec.WorkloadSpec(state_dir="/srv/state")

    assert plan.candidate_config_path(workload) == "/srv/state/gunicorn.conf.py.candidate"


def test_gevent_adds_an_import_check_with_the_rocks_python():
    desired = _build(_state(webserver=config.WebserverConfig(worker_class="gevent")))

    assert desired.checks[-1] == ("/bin/python3", "-c", "import gevent")
    assert "gevent" in desired.checks[0]


def test_plan_renders_the_gunicorn_config_from_the_webserver_options():
    desired = _build(_state(webserver=config.WebserverConfig(workers=9)))

    assert "_WORKERS, _THREADS, _SIZED_FOR = _master.sizing(*('sync', 9, None))" in (
        desired.gunicorn_config.splitlines()
    )


def test_plan_has_a_migration_only_when_the_rock_has_a_script():
    assert _build(_state()).migration is None

    migration = _build(_state(), frozenset({"migrate.py", "app.py"})).migration

    assert migration is not None
    assert migration.command == ("/bin/python3", "migrate.py")


def test_plan_carries_the_secret_values_to_redact():
    desired = _build(_state(secret_values=("the-key", "token-value")))

    assert desired.secret_values == ("the-key", "token-value")


def test_schedulers_follow_leadership():
    services = {
        **ROCK_SERVICES,
        "beat-scheduler": {"override": "replace", "command": "beat", "startup": "enabled"},
    }

    leader = plan.build(_state(is_leader=True), plan.RockFacts(services), WORKLOAD)
    follower = plan.build(_state(is_leader=False), plan.RockFacts(services), WORKLOAD)

    assert leader.services["beat-scheduler"]["startup"] == "enabled"
    assert follower.services["beat-scheduler"]["startup"] == "disabled"


def test_scaling_out_or_rotating_the_key_does_not_rerun_the_migration():
    files = frozenset({"migrate.sh"})
    before = _build(_state(), files).migration
    scaled = _build(_state(peer_fqdns=("flask-k8s-1.x",)), files).migration
    rotated = _build(_state(secret_key="another-key"), files).migration
    reconfigured = _build(_state(user_env={"FLASK_TOKEN": "t"}), files).migration

    assert before is not None and scaled is not None and rotated is not None
    assert scaled.digest == before.digest
    assert rotated.digest == before.digest
    assert reconfigured is not None and reconfigured.digest != before.digest


TRACING_ENV = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://tempo.cos.svc.cluster.local:4318",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_SERVICE_NAME": "flask-k8s",
}


def test_the_tracing_relation_sets_up_tracing_in_the_gunicorn_config():
    plain = _build(_state())
    traced = _build(_state(integration_env=TRACING_ENV))

    assert "def post_fork(" not in plain.gunicorn_config
    assert "def post_fork(" in traced.gunicorn_config
    assert "def worker_exit(" in traced.gunicorn_config
    assert (
        traced.environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
        == TRACING_ENV["OTEL_EXPORTER_OTLP_ENDPOINT"]
    )


def test_json_logging_comes_from_the_state():
    plain = _build(_state())
    json_lines = _build(_state(json_logging=True))

    assert "_JsonFormatter" not in plain.gunicorn_config
    assert "_JsonFormatter" in json_lines.gunicorn_config
    # Only the file changes, so the apply step checks it and reloads gunicorn with SIGHUP.
    assert json_lines.layer == plain.layer
    assert json_lines.checks == plain.checks


def _checks(health_checks: str, has_app_side: bool) -> dict[str, typing.Any]:
    charm_state = _state(webserver=config.WebserverConfig(health_checks=health_checks))
    rock = plan.RockFacts(ROCK_SERVICES, has_app_side=has_app_side)
    return plan.build(charm_state, rock, WORKLOAD).layer["checks"]


def test_auto_health_checks_use_dockerflow_when_the_rock_has_flask_k8s_app():
    assert _checks("auto", has_app_side=True)["flask-ready"]["http"]["url"].endswith(
        "/__heartbeat__"
    )
    assert "tcp" in _checks("auto", has_app_side=False)["flask-alive"]


def test_the_health_checks_option_overrides_what_the_rock_has():
    assert _checks("basic", has_app_side=True)["flask-ready"]["http"]["url"].endswith(":8000/")
    assert _checks("dockerflow", has_app_side=False)["flask-ready"]["http"]["url"].endswith(
        "/__heartbeat__"
    )
