"""The charm's Pebble layer, computed from the rock's own services."""

import pytest

from flask_k8s import _config as config
from flask_k8s import _pebble_layer as pebble_plan
from flask_k8s import _spec as spec
from flask_k8s import _status as status

WORKLOAD = spec.WorkloadSpec()
ENV = {"FLASK_SECRET_KEY": "k", "FLASK_BASE_URL": "http://flask-k8s.m:8000"}
FLASK = {
    "override": "replace",
    "startup": "enabled",
    "after": ["statsd-exporter"],
    "user": "_daemon_",
    "command": "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py 'app:app' -k [ sync ]",
}
EXPORTER = {
    "override": "merge",
    "command": "/bin/statsd_exporter --statsd.listen-udp=localhost:9125",
    "startup": "enabled",
    "user": "_daemon_",
}
ROCK = {
    "flask": FLASK,
    "statsd-exporter": EXPORTER,
    "celery-worker": {"override": "replace", "command": "celery worker", "startup": "enabled"},
    "beat-scheduler": {"override": "merge", "command": "celery beat", "startup": "enabled"},
    "sidecar": {"override": "replace", "command": "sleep 1d"},
}


def _layer(runs_scheduler: bool = True, worker_class: str | None = None) -> dict:
    return pebble_plan.build_layer(
        ROCK, ENV, config.WebserverConfig(worker_class=worker_class), runs_scheduler, WORKLOAD
    )


def test_a_failing_readiness_check_is_explained_by_the_heartbeats_checks_or_the_status_code():
    heartbeat = 'ERROR non-2xx status code 503; {"status": "error", "checks": {"db": "error"}'
    assert pebble_plan.readiness_failure(heartbeat) == "db (error)"
    not_found = pebble_plan.readiness_failure("ERROR non-2xx status code 404; <!doctype html>")
    assert not_found.startswith("the app answers 404")
    assert "webserver-health-checks=basic" in not_found
    assert pebble_plan.readiness_failure("ERROR non-2xx status code 502; Bad Gateway") == (
        "the app answers 502"
    )
    assert pebble_plan.readiness_failure("ERROR Get ...: context deadline exceeded") == ""


def test_the_status_code_of_a_failed_http_check_is_read_from_pebbles_log():
    assert pebble_plan.failed_status_code("ERROR non-2xx status code 404; <!doctype html>") == 404
    assert pebble_plan.failed_status_code('ERROR Get "http://localhost:8000/": timeout') is None


def test_flask_keeps_the_rocks_definition_without_the_env():
    # gunicorn's master reads the env from the settings file: a new env is no new definition.
    flask = _layer()["services"]["flask"]

    assert flask == {**FLASK, "on-check-failure": {"flask-alive": "restart"}}


def test_workers_get_the_env_and_time_to_finish_their_job():
    worker = _layer()["services"]["celery-worker"]

    assert worker["environment"] == ENV
    assert worker["override"] == "replace"
    assert worker["command"] == "celery worker"
    assert worker["kill-delay"] == "30s"


def test_a_rocks_own_kill_delay_is_kept():
    layer = pebble_plan.build_layer(
        {**ROCK, "slow-worker": {"command": "work", "kill-delay": "2m"}},
        ENV,
        config.WebserverConfig(),
        True,
        spec.FLASK,
    )

    assert layer["services"]["slow-worker"]["kill-delay"] == "2m"


def test_scheduler_is_enabled_with_the_env_where_it_runs():
    scheduler = _layer(runs_scheduler=True)["services"]["beat-scheduler"]

    assert scheduler["startup"] == "enabled"
    assert scheduler["environment"] == ENV
    assert scheduler["override"] == "replace"


def test_scheduler_is_disabled_where_it_does_not_run():
    scheduler = _layer(runs_scheduler=False)["services"]["beat-scheduler"]

    assert scheduler["startup"] == "disabled"


def test_exporter_and_other_services_are_left_to_the_rock():
    services = _layer()["services"]

    assert "statsd-exporter" not in services
    assert "sidecar" not in services


def test_the_env_is_copied_not_shared():
    layer = _layer()

    layer["services"]["beat-scheduler"]["environment"]["EXTRA"] = "1"

    assert "EXTRA" not in layer["services"]["celery-worker"]["environment"]
    assert "EXTRA" not in ENV


def test_worker_class_rewrites_only_the_flask_command():
    services = _layer(worker_class="gevent")["services"]

    assert services["flask"]["command"].endswith("-k [ gevent ]")
    assert services["celery-worker"]["command"] == "celery worker"


def test_the_rocks_services_are_not_modified():
    _layer(runs_scheduler=False, worker_class="gevent")

    assert ROCK["flask"] is FLASK
    assert "environment" not in FLASK
    assert ROCK["beat-scheduler"]["startup"] == "enabled"


def test_rock_without_flask_blocks():
    with pytest.raises(status.Blocked, match="the rock has no 'flask' service"):
        pebble_plan.build_layer(
            {"statsd-exporter": EXPORTER}, ENV, config.WebserverConfig(), True, WORKLOAD
        )


@pytest.mark.parametrize(
    ("name", "worker", "scheduler"),
    [
        ("celery-worker", True, False),
        ("Celery-WORKER", True, False),
        ("worker", False, False),
        ("beat-scheduler", False, True),
        ("My-Scheduler", False, True),
        ("scheduler-1", False, False),
        ("flask", False, False),
    ],
)
def test_workers_and_schedulers_are_known_by_their_suffix(name, worker, scheduler):
    assert pebble_plan.is_worker(name) is worker
    assert pebble_plan.is_scheduler(name) is scheduler


def test_app_services_are_the_web_service_workers_and_schedulers():
    assert pebble_plan.app_services(ROCK, WORKLOAD) == ["flask", "celery-worker", "beat-scheduler"]


def test_another_spec_manages_its_own_service_name():
    layer = pebble_plan.build_layer(
        {"web": {"command": "gunicorn app:app"}},
        ENV,
        config.WebserverConfig(),
        True,
        spec.WorkloadSpec(service="web"),
    )

    assert layer["services"]["web"]["on-check-failure"] == {"flask-alive": "restart"}
    assert "environment" not in layer["services"]["web"]


def test_layer_checks_liveness_readiness_and_the_exporter():
    checks = _layer()["checks"]

    assert checks["flask-alive"] == {
        "override": "replace",
        "level": "alive",
        "period": "10s",
        "timeout": "3s",
        "threshold": 3,
        "tcp": {"port": 8000},
    }
    assert checks["flask-ready"]["level"] == "ready"
    assert checks["flask-ready"]["http"] == {"url": "http://localhost:8000/"}
    assert checks["statsd-exporter-alive"]["http"] == {"url": "http://localhost:9102/metrics"}
    assert checks["statsd-exporter-alive"]["period"] == "30s"


def test_only_liveness_restarts_gunicorn():
    layer = _layer()

    assert layer["services"]["flask"]["on-check-failure"] == {"flask-alive": "restart"}
    assert "on-check-failure" not in layer["services"]["celery-worker"]


def test_readiness_requests_the_configured_path():
    layer = pebble_plan.build_layer(
        ROCK, ENV, config.WebserverConfig(readiness_path="/healthz"), True, WORKLOAD
    )

    assert layer["checks"]["flask-ready"]["http"] == {"url": "http://localhost:8000/healthz"}


def test_check_timing_follows_the_spec():
    fast = spec.WorkloadSpec(check_period=1, check_threshold=2)

    checks = pebble_plan.checks("/", fast)

    assert checks["flask-ready"]["period"] == "1s"
    assert checks["flask-ready"]["threshold"] == 2
    assert checks["statsd-exporter-alive"]["period"] == "3s"


@pytest.mark.parametrize("dockerflow", [False, True])
def test_liveness_is_a_tcp_connect_in_every_mode(dockerflow):
    # An HTTP liveness check is answered by the workers that serve the traffic: a saturated
    # app would fail it and be restarted, and an app that does not answer /__lbheartbeat__
    # (flask_k8s_app installed but unused) would be restarted every half minute.
    checks = pebble_plan.checks("/", WORKLOAD, dockerflow=dockerflow)

    assert checks["flask-alive"]["tcp"] == {"port": 8000}
    assert "http" not in checks["flask-alive"]


def test_dockerflow_checks_ask_the_apps_dependencies_for_readiness():
    checks = pebble_plan.checks("/", WORKLOAD, dockerflow=True)

    assert checks["flask-ready"]["http"] == {"url": "http://localhost:8000/__heartbeat__"}
    # The heartbeat's checks each have their own timeout: one failure is a real one, shown
    # within a period; liveness keeps the threshold, so a slow moment restarts nothing.
    assert checks["flask-ready"]["threshold"] == 1
    assert checks["flask-alive"]["threshold"] == WORKLOAD.check_threshold


def test_dockerflow_readiness_keeps_a_path_the_user_set():
    checks = pebble_plan.checks("/ready", WORKLOAD, dockerflow=True)

    assert checks["flask-ready"]["http"] == {"url": "http://localhost:8000/ready"}


def test_only_liveness_restarts_the_app_with_dockerflow_checks():
    layer = pebble_plan.build_layer(
        ROCK, ENV, config.WebserverConfig(), True, WORKLOAD, dockerflow=True
    )

    assert layer["services"]["flask"]["on-check-failure"] == {"flask-alive": "restart"}


def test_basic_checks_connect_to_the_port_and_get_the_readiness_path():
    checks = pebble_plan.checks("/", WORKLOAD)

    assert checks["flask-alive"]["tcp"] == {"port": 8000}
    assert checks["flask-ready"]["http"] == {"url": "http://localhost:8000/"}
    assert checks["flask-ready"]["threshold"] == WORKLOAD.check_threshold


def test_the_failing_checks_of_a_heartbeat_are_named_worst_first_without_their_messages():
    log = (
        '2026-12-01T22:58:19Z ERROR non-2xx status code 500; {"status": "critical", '
        '"checks": {"queue": "critical", "database": "error", "redis": "ok", "cache": '
        '"warning"}, "details": {"database": {"messages": {"x": "password=hunter2"}}}}'
    )

    assert pebble_plan.failing_heartbeat_checks(log) == ["queue (critical)", "database (error)"]


def test_a_heartbeat_cut_short_by_pebble_still_names_the_checks_it_kept():
    log = 'ERROR non-2xx status code 503; {"status": "error", "checks": {"database": "error", "re'

    assert pebble_plan.failing_heartbeat_checks(log) == ["database (error)"]


def test_an_answer_that_is_no_heartbeat_names_nothing():
    assert pebble_plan.failing_heartbeat_checks("ERROR non-2xx status code 502; Bad Gateway") == []
    assert pebble_plan.failing_heartbeat_checks("") == []


def test_many_failing_checks_are_counted_past_the_fifth():
    checks = ", ".join(f'"c{i}": "error"' for i in range(8))

    named = pebble_plan.failing_heartbeat_checks(f'{{"checks": {{{checks}}}}}')

    assert named == [
        "c0 (error)",
        "c1 (error)",
        "c2 (error)",
        "c3 (error)",
        "c4 (error)",
        "3 more",
    ]
