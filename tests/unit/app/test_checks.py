"""Heartbeat checks: their messages and levels, and a runner that answers in time whatever they do.

Pins what a check may return, how its outcome becomes the heartbeat's, the per-check timeout,
a hung check never started twice, the result cache, silenced message ids, the extension's
check registration API and the heartbeat signals.
"""

from __future__ import annotations

import pathlib
import threading
import time
import typing

import flask
import pytest

import flask_k8s_app
from flask_k8s_app import _checks
from tests.unit.app import helpers

# -- messages ---------------------------------------------------------------------------------


def test_levels_have_dockerflows_numbers_and_names():
    levels = [0, flask_k8s_app.DEBUG, flask_k8s_app.INFO, flask_k8s_app.WARNING]
    levels += [flask_k8s_app.ERROR, flask_k8s_app.CRITICAL]

    assert levels == [0, 10, 20, 30, 40, 50]
    assert [flask_k8s_app.level_text(level) for level in levels] == [
        "ok",
        "debug",
        "info",
        "warning",
        "error",
        "critical",
    ]
    assert flask_k8s_app.level_text(35) == "unknown"


def test_each_message_class_carries_its_level_and_a_plain_message_takes_one():
    made = [
        flask_k8s_app.Debug("d"),
        flask_k8s_app.Info("i"),
        flask_k8s_app.Warning("w"),
        flask_k8s_app.Error("e"),
        flask_k8s_app.Critical("c"),
        flask_k8s_app.CheckMessage("custom", level=35),
    ]

    assert [message.level for message in made] == [10, 20, 30, 40, 50, 35]


def test_a_message_is_serious_from_error_up_or_from_the_level_asked():
    assert not flask_k8s_app.Warning("w").is_serious()
    assert flask_k8s_app.Error("e").is_serious()
    assert flask_k8s_app.Critical("c").is_serious()
    assert flask_k8s_app.Warning("w").is_serious(level=flask_k8s_app.WARNING)


def test_a_message_reads_as_its_object_id_text_and_hint():
    full = flask_k8s_app.Error("is down", hint="restart it", obj="db", id="app.E001")

    assert str(full) == "db: (app.E001) is down\n\tHINT: restart it"
    assert str(flask_k8s_app.Warning("slow")) == "slow"
    assert repr(full) == "Error('is down', id='app.E001')"


def test_messages_are_equal_when_their_level_text_hint_object_and_id_are():
    assert flask_k8s_app.Error("down", id="a") == flask_k8s_app.Error("down", id="a")
    assert flask_k8s_app.Error("down", id="a") != flask_k8s_app.Warning("down", id="a")
    assert flask_k8s_app.Error("down", id="a") != flask_k8s_app.Error("down", id="b")
    assert flask_k8s_app.Error("down") != "down"
    assert len({flask_k8s_app.Info("x", id="a"), flask_k8s_app.Info("x", id="a")}) == 1


# -- what a check returns ---------------------------------------------------------------------


def test_a_check_that_returns_nothing_or_an_empty_list_passes(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("none", lambda: None)
    ext.add_check("empty", lambda: [])

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert body == {"status": "ok", "checks": {"empty": "ok", "none": "ok"}, "details": {}}


def test_a_check_may_return_one_message_or_any_iterable_of_them(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    # Not what the type says, but what a check written for python-dockerflow may return.
    single = typing.cast("typing.Any", lambda: flask_k8s_app.Info("one", id="a.I1"))
    ext.add_check("single", single)
    ext.add_check("generator", lambda: (m for m in [flask_k8s_app.Info("two", id="a.I2")]))

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert body["checks"] == {"generator": "info", "single": "info"}
    assert helpers.messages(body, "single") == {"a.I1": "one"}
    assert helpers.messages(body, "generator") == {"a.I2": "two"}


def test_a_warning_passes_the_heartbeat_and_says_so(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("disk", lambda: [flask_k8s_app.Warning("90% full", id="disk.W1")])

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert body["status"] == "warning"
    assert body["details"] == {
        "disk": {"status": "warning", "level": 30, "messages": {"disk.W1": "90% full"}}
    }


def test_an_error_fails_the_heartbeat_with_500(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("payments", lambda: [flask_k8s_app.Error("unreachable", id="pay.E1")])

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert body["status"] == "error"
    assert helpers.messages(body, "payments") == {"pay.E1": "unreachable"}


def test_the_worst_message_gives_the_checks_level(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check(
        "mixed",
        lambda: [
            flask_k8s_app.Info("fine", id="m.I1"),
            flask_k8s_app.Critical("on fire", id="m.C1"),
            flask_k8s_app.Warning("hot", id="m.W1"),
        ],
    )

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert body["checks"] == {"mixed": "critical"}
    assert body["details"]["mixed"]["level"] == 50
    assert helpers.messages(body, "mixed") == {"m.I1": "fine", "m.C1": "on fire", "m.W1": "hot"}


def test_messages_without_an_id_are_numbered_in_order(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("anon", lambda: [flask_k8s_app.Info("first"), flask_k8s_app.Info("second")])

    _, body = helpers.heartbeat(app)

    assert helpers.messages(body, "anon") == {"message.0": "first", "message.1": "second"}


def test_a_check_that_raises_is_an_error_naming_the_exception_first_line(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)

    def broken() -> None:
        raise ValueError("pool exhausted\nsecond line of detail")

    def bare() -> None:
        raise KeyError

    ext.add_check("broken", broken)
    ext.add_check("bare", bare)

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert helpers.messages(body, "broken") == {
        "flask_k8s_app.E_EXCEPTION": "ValueError: pool exhausted"
    }
    assert helpers.messages(body, "bare") == {"flask_k8s_app.E_EXCEPTION": "KeyError"}


def test_a_check_returning_anything_but_messages_is_an_error(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("text", typing.cast("typing.Any", lambda: "all good"))
    ext.add_check("strings", typing.cast("typing.Any", lambda: ["all good"]))

    code, body = helpers.heartbeat(app)

    assert code == 500
    assert helpers.messages(body, "text") == {
        "flask_k8s_app.E_EXCEPTION": (
            "TypeError: a check returns CheckMessage objects or None, not str"
        )
    }
    assert helpers.messages(body, "strings") == {
        "flask_k8s_app.E_EXCEPTION": (
            "TypeError: a check returns CheckMessage objects or None, not list"
        )
    }


# -- time ---------------------------------------------------------------------------------------


def test_a_hung_check_never_holds_the_heartbeat_past_its_timeout(
    tmp_path: pathlib.Path, gate: threading.Event
):
    app, ext = helpers.make_app(tmp_path, {"K8S_CHECK_TIMEOUT": 0.3})
    ext.add_check("hung", helpers.waits_for(gate))
    ext.add_check("fine", lambda: None)

    start = time.monotonic()
    code, body = helpers.heartbeat(app)
    elapsed = time.monotonic() - start

    assert 0.3 <= elapsed < 0.6
    assert code == 500
    assert body["checks"] == {"hung": "error", "fine": "ok"}
    assert helpers.messages(body, "hung") == {"flask_k8s_app.E_TIMEOUT": "no answer within 0.3s"}


def test_checks_run_at_once_so_slow_checks_share_one_timeout(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path, {"K8S_CHECK_TIMEOUT": 0.4})
    for name in ("a", "b", "c"):
        ext.add_check(name, lambda: time.sleep(0.2))

    start = time.monotonic()
    code, body = helpers.heartbeat(app)

    # One after another they would take 0.6 s, past the timeout.
    assert time.monotonic() - start < 0.4
    assert code == 200
    assert body["checks"] == {"a": "ok", "b": "ok", "c": "ok"}


def test_a_check_still_running_from_an_earlier_heartbeat_is_not_started_again(
    tmp_path: pathlib.Path, gate: threading.Event
):
    app, ext = helpers.make_app(tmp_path, {"K8S_CHECK_TIMEOUT": 0.2})
    calls: list[float] = []

    def hung() -> None:
        calls.append(time.monotonic())
        gate.wait()

    ext.add_check("hung", hung)

    for _ in range(2):
        assert helpers.heartbeat(app)[0] == 500

    assert len(calls) == 1


def test_a_hung_check_that_answers_at_last_passes_the_next_heartbeat(
    tmp_path: pathlib.Path, gate: threading.Event
):
    app, ext = helpers.make_app(tmp_path, {"K8S_CHECK_TIMEOUT": 0.2})

    def slow() -> None:
        gate.wait()

    ext.add_check("slow", slow)
    assert helpers.heartbeat(app)[0] == 500

    gate.set()

    assert helpers.heartbeat(app) == (
        200,
        {"status": "ok", "checks": {"slow": "ok"}, "details": {}},
    )


def test_a_check_that_answered_runs_again_on_the_next_heartbeat(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path, {"K8S_HEARTBEAT_CACHE_SECONDS": 0})
    calls: list[int] = []
    ext.add_check("counted", lambda: calls.append(1))

    for _ in range(3):
        helpers.heartbeat(app)

    assert len(calls) == 3


def test_a_heartbeat_within_the_cache_seconds_reuses_the_last_result(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path, {"K8S_HEARTBEAT_CACHE_SECONDS": 5})
    calls: list[int] = []
    ext.add_check("counted", lambda: calls.append(1))

    for _ in range(3):
        helpers.heartbeat(app)

    assert len(calls) == 1


def test_the_cached_result_expires_after_the_cache_seconds(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path, {"K8S_HEARTBEAT_CACHE_SECONDS": 0.1})
    calls: list[int] = []
    ext.add_check("counted", lambda: calls.append(1))

    helpers.heartbeat(app)
    time.sleep(0.15)
    helpers.heartbeat(app)

    assert len(calls) == 2


def test_concurrent_heartbeats_share_one_run_of_the_checks(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path, {"K8S_HEARTBEAT_CACHE_SECONDS": 1})
    calls: list[int] = []

    def slow() -> None:
        calls.append(1)
        time.sleep(0.1)

    ext.add_check("slow", slow)
    codes: list[int] = []
    threads = [
        threading.Thread(target=lambda: codes.append(helpers.heartbeat(app)[0])) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert codes == [200] * 4
    assert len(calls) == 1


def test_with_the_cache_off_concurrent_heartbeats_each_answer_within_the_timeout(
    tmp_path: pathlib.Path, gate: threading.Event
):
    app, ext = helpers.make_app(
        tmp_path, {"K8S_CHECK_TIMEOUT": 0.3, "K8S_HEARTBEAT_CACHE_SECONDS": 0}
    )
    ext.add_check("hung", helpers.waits_for(gate))
    elapsed: list[float] = []

    def probe() -> None:
        start = time.monotonic()
        helpers.heartbeat(app)
        elapsed.append(time.monotonic() - start)

    threads = [threading.Thread(target=probe) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert max(elapsed) < 0.5


# -- silenced message ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "silenced", ["pay.E1", "pay.E1, other.W9", '["pay.E1"]', '"pay.E1"', ["pay.E1"]], ids=repr
)
def test_a_silenced_message_id_no_longer_counts(tmp_path: pathlib.Path, silenced: object):
    app, ext = helpers.make_app(tmp_path, {"K8S_SILENCED_CHECKS": silenced})
    ext.add_check(
        "payments",
        lambda: [
            flask_k8s_app.Error("unreachable", id="pay.E1"),
            flask_k8s_app.Warning("slow", id="pay.W1"),
        ],
    )

    code, body = helpers.heartbeat(app)

    assert code == 200
    assert body["checks"] == {"payments": "warning"}
    assert helpers.messages(body, "payments") == {"pay.W1": "slow"}


def test_silencing_every_message_of_a_check_makes_it_ok(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path, {"K8S_SILENCED_CHECKS": "pay.E1"})
    ext.add_check("payments", lambda: [flask_k8s_app.Error("unreachable", id="pay.E1")])

    assert helpers.heartbeat(app) == (
        200,
        {"status": "ok", "checks": {"payments": "ok"}, "details": {}},
    )


@pytest.mark.parametrize("silenced", [None, "", []], ids=repr)
def test_an_empty_silenced_setting_silences_nothing(tmp_path: pathlib.Path, silenced: object):
    app, ext = helpers.make_app(tmp_path, {"K8S_SILENCED_CHECKS": silenced})
    ext.add_check("payments", lambda: [flask_k8s_app.Error("unreachable", id="pay.E1")])

    assert helpers.heartbeat(app)[0] == 500


# -- registering checks --------------------------------------------------------------------------


def test_the_check_decorator_names_a_check_after_its_function_or_the_name_given(
    tmp_path: pathlib.Path,
):
    app, ext = helpers.make_app(tmp_path)

    @ext.check
    def queue_depth() -> list[flask_k8s_app.CheckMessage]:
        return [flask_k8s_app.Warning("deep", id="q.W1")]

    @ext.check(name="payments")
    def ping_payments() -> None:
        return None

    _, body = helpers.heartbeat(app)

    assert body["checks"] == {"queue_depth": "warning", "payments": "ok"}
    # The decorator gives the function back, still callable.
    assert queue_depth() == [flask_k8s_app.Warning("deep", id="q.W1")]
    assert ping_payments() is None


def test_a_check_added_again_under_its_name_replaces_the_first(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("payments", lambda: [flask_k8s_app.Error("old", id="p.E1")])
    ext.add_check("payments", lambda: None)

    assert helpers.heartbeat(app) == (
        200,
        {"status": "ok", "checks": {"payments": "ok"}, "details": {}},
    )


def test_the_registry_lists_its_checks_in_registration_order_and_can_drop_one():
    registry = _checks.Registry()
    for name in ("b", "a", "c"):
        registry.register(name, lambda: None)

    registry.unregister("a")
    registry.unregister("never-registered")

    assert registry.names() == ["b", "c"]
    assert registry.run(timeout=1).checks.keys() == {"b", "c"}


def test_one_extension_gives_its_checks_to_every_app_it_serves(tmp_path: pathlib.Path):
    ext = flask_k8s_app.FlaskK8s(logging=False)
    ext.add_check("before", lambda: None)
    apps = [flask.Flask(name, root_path=str(tmp_path)) for name in ("one", "two")]
    for app in apps:
        app.config.update(helpers.BASE_CONFIG)
        ext.init_app(app)

    ext.add_check("after", lambda: [flask_k8s_app.Warning("w", id="w.1")])

    for app in apps:
        assert helpers.heartbeat(app)[1]["checks"] == {"after": "warning", "before": "ok"}


def test_two_apps_with_their_own_extension_share_no_checks(tmp_path: pathlib.Path):
    first, first_ext = helpers.make_app(tmp_path, name="first")
    second, _ = helpers.make_app(tmp_path, name="second")

    first_ext.add_check("only_first", lambda: None)

    assert helpers.heartbeat(first)[1]["checks"] == {"only_first": "ok"}
    assert helpers.heartbeat(second)[1]["checks"] == {}


def test_the_extension_runs_the_checks_outside_a_request(tmp_path: pathlib.Path):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("payments", lambda: [flask_k8s_app.Error("unreachable", id="pay.E1")])

    result = ext.heartbeat(app)
    with app.app_context():
        in_context = ext.heartbeat()

    assert isinstance(result, flask_k8s_app.HeartbeatResult)
    assert result.failed()
    assert result.status == "error"
    assert result.checks["payments"] == flask_k8s_app.CheckResult(
        level=flask_k8s_app.ERROR, messages={"pay.E1": "unreachable"}
    )
    assert result.checks["payments"].status == "error"
    assert in_context.level == flask_k8s_app.ERROR


# -- signals -----------------------------------------------------------------------------------


def test_a_passing_heartbeat_sends_heartbeat_passed_with_its_level_and_result(
    tmp_path: pathlib.Path,
):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("disk", lambda: [flask_k8s_app.Warning("full", id="d.W1")])
    passed: list[tuple[object, dict[str, typing.Any]]] = []
    failed: list[object] = []

    def on_passed(sender: object, **kwargs: typing.Any) -> None:
        passed.append((sender, kwargs))

    with (
        flask_k8s_app.heartbeat_passed.connected_to(on_passed, app),
        flask_k8s_app.heartbeat_failed.connected_to(failed.append, app),
    ):
        helpers.heartbeat(app)

    ((sender, kwargs),) = passed
    assert sender is app
    assert kwargs["level"] == flask_k8s_app.WARNING
    assert kwargs["result"].checks["disk"].messages == {"d.W1": "full"}
    assert failed == []


def test_a_failing_heartbeat_sends_heartbeat_failed_with_its_level_and_result(
    tmp_path: pathlib.Path,
):
    app, ext = helpers.make_app(tmp_path)
    ext.add_check("db", lambda: [flask_k8s_app.Critical("gone", id="db.C1")])
    failed: list[tuple[object, dict[str, typing.Any]]] = []
    passed: list[object] = []

    def on_failed(sender: object, **kwargs: typing.Any) -> None:
        failed.append((sender, kwargs))

    with (
        flask_k8s_app.heartbeat_failed.connected_to(on_failed, app),
        flask_k8s_app.heartbeat_passed.connected_to(passed.append, app),
    ):
        helpers.heartbeat(app)

    ((sender, kwargs),) = failed
    assert sender is app
    assert kwargs["level"] == flask_k8s_app.CRITICAL
    assert kwargs["result"].failed()
    assert passed == []
