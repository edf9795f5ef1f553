"""The Flask secret key: generated once, shared through a Juju secret, overridable, rotatable."""

import dataclasses
import json
import re
import time

import ops
import pytest
import yaml
from ops import testing

import charm
from tests.unit import conftest
from tests.unit.conftest import CHARM_ROOT


def _env(out: testing.State) -> dict[str, str]:
    return conftest.flask_env(out)


def _generated(out: testing.State) -> testing.Secret:
    return out.get_secret(label="flask-secret-key")


@pytest.fixture
def fresh_state(workload) -> testing.State:
    """A leader with the peer relation but no secret key yet."""
    return testing.State(
        leader=True,
        model=testing.Model(name="test-model"),
        containers={workload.container()},
        relations={testing.PeerRelation("secret-storage")},
    )


def test_leader_creates_an_app_owned_secret_and_shares_its_id(ctx, fresh_state):
    peer = next(iter(fresh_state.relations))

    out = ctx.run(ctx.on.leader_elected(), fresh_state)

    secret = _generated(out)
    assert secret.owner == "app"
    databag = out.get_relation(peer.id).local_app_data
    assert databag["secret-key-id"] == secret.id
    key = secret.latest_content["value"]
    assert key not in databag.values()
    assert _env(out)["FLASK_SECRET_KEY"] == key
    assert out.unit_status == testing.ActiveStatus()


def test_generated_key_is_64_random_bytes_url_safe(make_ctx, fresh_state):
    keys = set()
    for _ in range(2):
        ctx = make_ctx()
        keys.add(_generated(ctx.run(ctx.on.leader_elected(), fresh_state)).latest_content["value"])

    assert len(keys) == 2
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{86}", key) for key in keys)


def test_leader_creates_the_key_when_the_peer_relation_is_created(ctx, fresh_state):
    peer = next(iter(fresh_state.relations))

    out = ctx.run(ctx.on.relation_created(peer), fresh_state)

    assert "secret-key-id" in out.get_relation(peer.id).local_app_data


def test_leader_without_the_peer_relation_waits(ctx, workload):
    state = testing.State(leader=True, containers={workload.container()})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.WaitingStatus(
        "waiting for the leader to create the secret key"
    )
    assert not out.secrets


def test_non_leader_without_the_key_waits_and_does_not_start_the_app(ctx, fresh_state):
    state = dataclasses.replace(fresh_state, leader=False)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.WaitingStatus(
        "waiting for the leader to create the secret key"
    )
    assert not out.secrets
    assert "flask-k8s" not in out.get_container("flask-app").layers


def test_non_leader_with_the_shared_secret_uses_the_same_key(ctx, state, key_secret):
    state = dataclasses.replace(state, leader=False)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert _env(out)["FLASK_SECRET_KEY"] == key_secret.tracked_content["value"]
    assert out.secrets == state.secrets


def test_non_leader_picks_up_a_rotated_key(ctx, state, key_secret, peers):
    rotated = dataclasses.replace(key_secret, latest_content={"value": "rotated-key-Jd82kLq"})
    peers = dataclasses.replace(
        peers, local_app_data={**peers.local_app_data, "secret-key-revision": "1"}
    )
    peers = dataclasses.replace(peers, peers_data={1: {}})
    state = dataclasses.replace(state, leader=False, secrets={rotated}, relations={peers})

    out = ctx.run(ctx.on.relation_changed(peers, remote_unit=1), state)

    assert _env(out)["FLASK_SECRET_KEY"] == "rotated-key-Jd82kLq"


@pytest.mark.parametrize("event", ["upgrade_charm", "leader_elected", "start"])
def test_key_survives_upgrades_and_leader_changes(make_ctx, fresh_state, event):
    first = make_ctx()
    created = first.run(first.on.leader_elected(), fresh_state)
    key = _generated(created).latest_content["value"]
    new_leader = make_ctx(unit_id=1)

    out = new_leader.run(getattr(new_leader.on, event)(), created)

    assert _env(out)["FLASK_SECRET_KEY"] == key
    assert out.secrets == created.secrets


def test_leader_replaces_a_key_whose_secret_is_gone(ctx, fresh_state):
    peer = dataclasses.replace(
        next(iter(fresh_state.relations)),
        local_app_data={"secret-key-id": testing.Secret({"value": "x"}).id or ""},
    )
    state = dataclasses.replace(fresh_state, relations={peer})

    out = ctx.run(ctx.on.config_changed(), state)

    secret = _generated(out)
    assert out.get_relation(peer.id).local_app_data["secret-key-id"] == secret.id
    assert _env(out)["FLASK_SECRET_KEY"] == secret.latest_content["value"]


def test_leader_reuses_its_labelled_secret_when_the_databag_lost_the_id(
    ctx, state, key_secret, peers
):
    peers = dataclasses.replace(peers, local_app_data={})
    state = dataclasses.replace(state, relations={peers})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.get_relation(peers.id).local_app_data["secret-key-id"] == key_secret.id
    assert _env(out)["FLASK_SECRET_KEY"] == key_secret.tracked_content["value"]
    assert [secret.label for secret in out.secrets].count("flask-secret-key") == 1


def test_legacy_plaintext_key_is_adopted_into_a_secret_and_removed(ctx, fresh_state):
    legacy = "legacy-paas-charm-key-Wq71Zx"
    peer = dataclasses.replace(
        next(iter(fresh_state.relations)), local_app_data={"flask_secret_key": legacy}
    )
    state = dataclasses.replace(fresh_state, relations={peer})

    out = ctx.run(ctx.on.upgrade_charm(), state)

    assert _generated(out).latest_content == {"value": legacy}
    databag = out.get_relation(peer.id).local_app_data
    assert "flask_secret_key" not in databag
    assert legacy not in databag.values()
    assert _env(out)["FLASK_SECRET_KEY"] == legacy


@pytest.mark.parametrize("legacy", [" ", "\n\t "])
def test_a_blank_legacy_key_is_no_key_and_a_new_one_is_made(ctx, fresh_state, legacy):
    peer = dataclasses.replace(
        next(iter(fresh_state.relations)), local_app_data={"flask_secret_key": legacy}
    )
    state = dataclasses.replace(fresh_state, relations={peer})

    out = ctx.run(ctx.on.upgrade_charm(), state)

    key = _generated(out).latest_content["value"]
    assert key.strip()
    assert len(key) >= 32
    assert _env(out)["FLASK_SECRET_KEY"] == key
    assert "flask_secret_key" not in out.get_relation(peer.id).local_app_data


def test_legacy_plaintext_key_is_dropped_once_the_secret_exists(ctx, state, key_secret, peers):
    peers = dataclasses.replace(
        peers, local_app_data={**peers.local_app_data, "flask_secret_key": "old"}
    )
    state = dataclasses.replace(state, relations={peers})

    out = ctx.run(ctx.on.config_changed(), state)

    assert "flask_secret_key" not in out.get_relation(peers.id).local_app_data
    assert _env(out)["FLASK_SECRET_KEY"] == key_secret.tracked_content["value"]


def test_flask_secret_key_option_overrides_the_generated_key(ctx, state):
    state = dataclasses.replace(state, config={"flask-secret-key": "from-config-Lp09"})

    out = ctx.run(ctx.on.config_changed(), state)

    assert _env(out)["FLASK_SECRET_KEY"] == "from-config-Lp09"


def test_flask_secret_key_option_lets_a_non_leader_run_without_the_generated_key(ctx, fresh_state):
    state = dataclasses.replace(
        fresh_state, leader=False, config={"flask-secret-key": "from-config-Lp09"}
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert _env(out)["FLASK_SECRET_KEY"] == "from-config-Lp09"


def test_flask_secret_key_id_option_overrides_the_generated_key(ctx, state):
    user_secret = testing.Secret({"value": "from-user-secret-Tz55"})
    state = dataclasses.replace(
        state,
        config={"flask-secret-key-id": user_secret.id},
        secrets={*state.secrets, user_secret},
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert _env(out)["FLASK_SECRET_KEY"] == "from-user-secret-Tz55"


def test_both_secret_key_options_block(ctx, state):
    user_secret = testing.Secret({"value": "from-user-secret"})
    state = dataclasses.replace(
        state,
        config={"flask-secret-key": "from-config", "flask-secret-key-id": user_secret.id},
        secrets={*state.secrets, user_secret},
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "invalid config: set only one of flask-secret-key and flask-secret-key-id"
    )


@pytest.mark.parametrize(
    "content",
    [{"key": "abc"}, {"value": "abc", "other": "def"}, {"value": ""}],
)
def test_secret_key_id_secret_must_hold_only_value(ctx, state, content):
    user_secret = testing.Secret(content)
    state = dataclasses.replace(
        state,
        config={"flask-secret-key-id": user_secret.id},
        secrets={*state.secrets, user_secret},
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.BlockedStatus(
        "invalid config: secret of flask-secret-key-id must hold exactly one key, 'value'"
    )


def test_secret_key_id_secret_not_found_blocks_naming_the_option(ctx, state):
    state = dataclasses.replace(
        state, config={"flask-secret-key-id": testing.Secret({"value": "x"}).id}
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert "secret of flask-secret-key-id not found" in out.unit_status.message


def test_rotate_replaces_the_key_and_tells_the_other_units(ctx, state, key_secret, peers):
    old = key_secret.tracked_content["value"]

    out = ctx.run(ctx.on.action("rotate-secret-key"), state)

    assert ctx.action_results == {"status": "success"}
    new = out.get_secret(id=key_secret.id).latest_content["value"]
    assert new != old
    assert re.fullmatch(r"[A-Za-z0-9_-]{86}", new)
    assert out.get_relation(peers.id).local_app_data["secret-key-revision"] == "1"
    assert _env(out)["FLASK_SECRET_KEY"] == new


def test_rotating_again_bumps_the_revision_again(make_ctx, state, peers):
    first = make_ctx()
    once = first.run(first.on.action("rotate-secret-key"), state)
    second = make_ctx()

    twice = second.run(second.on.action("rotate-secret-key"), once)

    assert twice.get_relation(peers.id).local_app_data["secret-key-revision"] == "2"


def test_rotate_creates_the_key_first_if_needed(ctx, fresh_state):
    peer = next(iter(fresh_state.relations))

    out = ctx.run(ctx.on.action("rotate-secret-key"), fresh_state)

    assert out.get_relation(peer.id).local_app_data["secret-key-revision"] == "1"
    assert _env(out)["FLASK_SECRET_KEY"] == _generated(out).latest_content["value"]


def test_rotate_on_a_non_leader_fails_clearly(ctx, state, key_secret):
    state = dataclasses.replace(state, leader=False)

    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(ctx.on.action("rotate-secret-key"), state)

    assert "only the leader can rotate the secret key" in failed.value.message
    assert "juju run flask-k8s/leader rotate-secret-key" in failed.value.message


@pytest.mark.parametrize("option", ["flask-secret-key", "flask-secret-key-id"])
def test_rotate_fails_when_the_key_comes_from_config(ctx, state, key_secret, option):
    value = "a-key" if option == "flask-secret-key" else testing.Secret({"value": "v"}).id
    state = dataclasses.replace(state, config={option: value})

    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(ctx.on.action("rotate-secret-key"), state)

    assert "flask-secret-key or flask-secret-key-id" in failed.value.message


def test_rotate_without_the_peer_relation_fails(ctx, workload):
    state = testing.State(leader=True, containers={workload.container()})

    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(ctx.on.action("rotate-secret-key"), state)

    assert "peer relation does not exist yet" in failed.value.message


def test_old_revisions_of_the_key_are_removed_after_rotation(make_ctx, state, key_secret):
    first = make_ctx()
    rotated = first.run(first.on.action("rotate-secret-key"), state)
    ctx = make_ctx()

    ctx.run(ctx.on.secret_remove(rotated.get_secret(id=key_secret.id), revision=1), rotated)

    assert ctx.removed_secret_revisions == [1]


def test_revisions_of_other_secrets_are_left_alone(ctx, state):
    other = testing.Secret({"a": "b"}, owner="app", label="something-else")

    ctx.run(
        ctx.on.secret_remove(other, revision=1),
        dataclasses.replace(state, secrets={*state.secrets, other}),
    )

    assert ctx.removed_secret_revisions == []


def test_key_is_never_written_to_the_unit_or_app_databags(ctx, fresh_state):
    out = ctx.run(ctx.on.leader_elected(), fresh_state)

    key = _generated(out).latest_content["value"]
    for relation in out.relations:
        for databag in (relation.local_app_data, relation.local_unit_data):
            assert key not in databag.values()
    assert isinstance(out.unit_status, ops.ActiveStatus)


def test_non_leader_whose_shared_secret_is_unreadable_waits(ctx, state, key_secret):
    state = dataclasses.replace(state, leader=False, secrets=set())

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.WaitingStatus(
        "waiting for the leader to create the secret key"
    )


def test_non_leader_whose_shared_secret_has_no_value_waits(ctx, state, key_secret):
    empty = dataclasses.replace(
        key_secret, tracked_content={"other": "x"}, latest_content={"other": "x"}
    )
    state = dataclasses.replace(state, leader=False, secrets={empty})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.WaitingStatus(
        "waiting for the leader to create the secret key"
    )


def test_non_leader_serves_paas_charms_plain_text_key_until_the_leader_moves_it(ctx, workload):
    # Upgraded from paas-charm: the peer databag still holds the key in plain text, and the
    # leader has not moved it into a secret yet. paas-charm's units keep serving with it.
    legacy = "legacy-paas-charm-key-Wq71Zx"
    state = testing.State(
        leader=False,
        model=testing.Model(name="test-model"),
        containers={workload.container()},
        relations={
            testing.PeerRelation("secret-storage", local_app_data={"flask_secret_key": legacy})
        },
    )

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()
    assert _env(out)["FLASK_SECRET_KEY"] == legacy
    assert not out.secrets


@pytest.mark.parametrize("revision", ["not-a-number", "9" * 5000, "-3", "1e3"])
def test_rotating_with_a_garbled_revision_counter_starts_it_again(ctx, state, peers, revision):
    peers = dataclasses.replace(
        peers, local_app_data={**peers.local_app_data, "secret-key-revision": revision}
    )
    state = dataclasses.replace(state, relations={peers})

    out = ctx.run(ctx.on.action("rotate-secret-key"), state)

    assert ctx.action_results == {"status": "success"}
    assert out.get_relation(peers.id).local_app_data["secret-key-revision"] == "1"


def test_a_charm_without_the_rotate_action_in_its_metadata_still_runs(state):
    # A charm author's charm built on the library may declare no actions at all.
    meta = yaml.safe_load((CHARM_ROOT / "charmcraft.yaml").read_text())
    meta.pop("actions", None)
    ctx = testing.Context(charm.FlaskK8sCharm, meta=meta)

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus()


def test_rotate_keeps_the_old_key_as_a_fallback_so_nobody_is_logged_out(
    ctx, state, key_secret, peers
):
    old = key_secret.tracked_content["value"]
    before = time.time()

    out = ctx.run(ctx.on.action("rotate-secret-key"), state)

    content = out.get_secret(id=key_secret.id).latest_content
    env = _env(out)
    assert env["FLASK_SECRET_KEY"] == content["value"]
    assert json.loads(env["FLASK_SECRET_KEY_FALLBACKS"]) == [old]
    # Until the sessions it signed have expired: Flask's default lifetime, 31 days.
    (fallback,) = json.loads(content["fallbacks"])
    assert fallback["value"] == old
    assert before + 31 * 24 * 3600 <= fallback["expires"] <= time.time() + 31 * 24 * 3600


def test_the_fallback_lasts_as_long_as_the_apps_sessions(ctx, state, key_secret):
    state = dataclasses.replace(state, config={"flask-permanent-session-lifetime": 3600})

    out = ctx.run(ctx.on.action("rotate-secret-key"), state)

    (fallback,) = json.loads(out.get_secret(id=key_secret.id).latest_content["fallbacks"])
    assert fallback["expires"] == pytest.approx(time.time() + 3600, abs=60)


def test_an_expired_fallback_is_dropped_and_at_most_three_are_kept(
    make_ctx, state, key_secret, peers
):
    expired = {"value": "expired-key-Qm39xLz", "expires": time.time() - 1}
    live = [{"value": f"live-key-{n}-Pw82nVc", "expires": time.time() + 3600} for n in range(3)]
    content = {
        "value": "current-key-Hs71kDq",
        "fallbacks": json.dumps([*live[:1], expired, *live[1:]]),
    }
    secret = dataclasses.replace(key_secret, tracked_content=content, latest_content=content)
    state = dataclasses.replace(state, secrets={secret})
    ctx = make_ctx()

    served = ctx.run(ctx.on.update_status(), state)

    assert json.loads(_env(served)["FLASK_SECRET_KEY_FALLBACKS"]) == [
        item["value"] for item in live
    ]
    rotate = make_ctx()
    out = rotate.run(rotate.on.action("rotate-secret-key"), served)

    kept = json.loads(out.get_secret(id=key_secret.id).latest_content["fallbacks"])
    assert [item["value"] for item in kept] == [
        "current-key-Hs71kDq",
        *(i["value"] for i in live[:2]),
    ]


def test_a_non_leader_serves_the_fallbacks_too(ctx, state, key_secret, peers):
    content = {
        "value": "rotated-key-Jd82kLq",
        "fallbacks": json.dumps([{"value": "old-key-Tz05mNb", "expires": time.time() + 60}]),
    }
    rotated = dataclasses.replace(key_secret, latest_content=content, tracked_content=content)
    state = dataclasses.replace(state, leader=False, secrets={rotated})

    out = ctx.run(ctx.on.update_status(), state)

    assert json.loads(_env(out)["FLASK_SECRET_KEY_FALLBACKS"]) == ["old-key-Tz05mNb"]


def test_garbage_fallbacks_are_ignored(ctx, state, key_secret):
    content = {"value": "current-key-Hs71kDq", "fallbacks": '[{"value": 1}, "x", {}]'}
    secret = dataclasses.replace(key_secret, tracked_content=content, latest_content=content)

    out = ctx.run(ctx.on.update_status(), dataclasses.replace(state, secrets={secret}))

    assert out.unit_status == testing.ActiveStatus()
    assert "FLASK_SECRET_KEY_FALLBACKS" not in _env(out)


def test_a_changed_flask_secret_key_keeps_the_previous_one_as_a_fallback(make_ctx, state):
    first = make_ctx()
    before = first.run(
        first.on.config_changed(),
        dataclasses.replace(state, config={"flask-secret-key": "option-key-one-Rt61"}),
    )
    ctx = make_ctx()

    out = ctx.run(
        ctx.on.config_changed(),
        dataclasses.replace(before, config={"flask-secret-key": "option-key-two-Vb27"}),
    )

    env = _env(out)
    assert env["FLASK_SECRET_KEY"] == "option-key-two-Vb27"
    assert json.loads(env["FLASK_SECRET_KEY_FALLBACKS"]) == ["option-key-one-Rt61"]
    history = next(s for s in out.secrets if s.label == "flask-secret-key-history")
    (fallback,) = json.loads(history.latest_content["fallbacks"])
    assert fallback["value"] == "option-key-one-Rt61"
    assert fallback["expires"] == pytest.approx(time.time() + 31 * 24 * 3600, abs=60)


def test_a_unit_ahead_of_the_leader_already_accepts_the_recorded_key(make_ctx, state):
    first = make_ctx()
    recorded = first.run(
        first.on.config_changed(),
        dataclasses.replace(state, config={"flask-secret-key": "option-key-one-Rt61"}),
    )
    ctx = make_ctx()

    # A non-leader sees the new option before the leader has recorded the change.
    out = ctx.run(
        ctx.on.config_changed(),
        dataclasses.replace(
            recorded, leader=False, config={"flask-secret-key": "option-key-two-Vb27"}
        ),
    )

    assert json.loads(_env(out)["FLASK_SECRET_KEY_FALLBACKS"]) == ["option-key-one-Rt61"]
    history = next(s for s in out.secrets if s.label == "flask-secret-key-history")
    assert history.latest_content["current"] == "option-key-one-Rt61"


def test_an_unchanged_key_has_no_fallback(make_ctx, state):
    first = make_ctx()
    once = first.run(first.on.config_changed(), state)
    ctx = make_ctx()

    out = ctx.run(ctx.on.update_status(), once)

    assert "FLASK_SECRET_KEY_FALLBACKS" not in _env(out)
