"""Shared fixtures: the flask-framework rock in a simulated container, and a ready charm."""

from __future__ import annotations

import copy
import json
import pathlib
import typing

import ops
import pytest
import yaml
from ops import testing

import charm

CONTAINER = "flask-app"
FLASK_COMMAND = "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py 'app:app' -k [ sync ]"
EXPORTER_COMMAND = (
    "/bin/statsd_exporter --statsd.mapping-config=/statsd-mapping.conf "
    "--statsd.listen-udp=localhost:9125 --statsd.listen-tcp=localhost:9125"
)
# The layer rockcraft's flask-framework extension writes into the rock.
ROCK_LAYER: dict[str, typing.Any] = {
    "summary": "flask-framework rock",
    "description": "The layer of a rock built with rockcraft's flask-framework extension.",
    "services": {
        "flask": {
            "override": "replace",
            "startup": "enabled",
            "after": ["statsd-exporter"],
            "user": "_daemon_",
            "command": FLASK_COMMAND,
        },
        "statsd-exporter": {
            "override": "merge",
            "command": EXPORTER_COMMAND,
            "startup": "enabled",
            "user": "_daemon_",
        },
    },
}
GUNICORN_PREFIX = ("/bin/python3", "-m", "gunicorn")
GEVENT_CHECK = ("/bin/python3", "-c", "import gevent")
CHARM_ROOT = pathlib.Path(__file__).parents[2]


def settings_environment(shm_dir: pathlib.Path) -> dict[str, str] | None:
    """The environment in the settings file under the container's /dev/shm, if there is one."""
    path = shm_dir / "flask-k8s" / "environment.json"
    return json.loads(path.read_text())["environment"] if path.exists() else None


def flask_env(out: testing.State) -> dict[str, str]:
    """The environment the charm gave the app: its settings file (empty without one)."""
    mount = out.get_container(CONTAINER).mounts.get("shm")
    if mount is None:
        return {}
    return settings_environment(pathlib.Path(mount.source)) or {}


class Workload:
    """The rock's container, with its /flask and the charm's state dir on the host."""

    flask_command = FLASK_COMMAND
    exporter_command = EXPORTER_COMMAND
    gunicorn_prefix = GUNICORN_PREFIX
    gevent_check = GEVENT_CHECK

    def __init__(self, tmp_path: pathlib.Path):
        self.flask_dir = tmp_path / "flask"
        self.app_dir = self.flask_dir / "app"
        self.state_dir = tmp_path / "state"
        self.shm_dir = tmp_path / "shm"
        self.app_dir.mkdir(parents=True)
        self.state_dir.mkdir()
        self.shm_dir.mkdir()

    def container(
        self,
        *,
        execs: typing.Iterable[testing.Exec] = (),
        services: dict[str, dict[str, typing.Any]] | None = None,
        service_statuses: dict[str, ops.pebble.ServiceStatus] | None = None,
        can_connect: bool = True,
    ) -> testing.Container:
        """The flask-app container running the rock's layer, with passing gunicorn checks.

        ``services`` adds services to the rock's layer (workers, schedulers); ``execs``
        replace the passing checks with the same command prefix, or add to them.
        """
        layer = copy.deepcopy(ROCK_LAYER)
        layer["services"].update(services or {})
        mocks = {
            GUNICORN_PREFIX: testing.Exec(GUNICORN_PREFIX),
            GEVENT_CHECK: testing.Exec(GEVENT_CHECK),
        }
        mocks.update({tuple(mock.command_prefix): mock for mock in execs})
        return testing.Container(
            CONTAINER,
            can_connect=can_connect,
            layers={"rock": ops.pebble.Layer(layer)},  # type: ignore[arg-type]
            service_statuses=service_statuses or {},
            execs=frozenset(mocks.values()),
            mounts={
                "flask": testing.Mount(location="/flask", source=self.flask_dir),
                "state": testing.Mount(location="/var/lib/flask-k8s", source=self.state_dir),
                # The charm makes /dev/shm/flask-k8s itself (a mount would be a symlink).
                "shm": testing.Mount(location="/dev/shm", source=self.shm_dir),
            },
        )

    def add_app_file(self, name: str, content: str = "") -> None:
        """Put a file into the rock's /flask/app."""
        (self.app_dir / name).write_text(content)

    @property
    def environment(self) -> dict[str, str] | None:
        """The app's environment in the settings file the charm pushed, if any."""
        return settings_environment(self.shm_dir)

    @property
    def gunicorn_config(self) -> str | None:
        """What the charm pushed to /flask/gunicorn.conf.py, if anything."""
        path = self.flask_dir / "gunicorn.conf.py"
        return path.read_text() if path.exists() else None


@pytest.fixture
def workload(tmp_path: pathlib.Path) -> Workload:
    return Workload(tmp_path)


@pytest.fixture
def ctx() -> testing.Context:
    return testing.Context(charm.FlaskK8sCharm)


@pytest.fixture
def make_ctx() -> typing.Callable[..., testing.Context]:
    """A fresh Context (its histories empty), optionally with extra config options."""

    def make(
        extra_options: dict[str, dict[str, typing.Any]] | None = None, **kwargs: typing.Any
    ) -> testing.Context:
        if not extra_options:
            return testing.Context(charm.FlaskK8sCharm, **kwargs)
        meta = yaml.safe_load((CHARM_ROOT / "charmcraft.yaml").read_text())
        meta["config"]["options"].update(extra_options)
        return testing.Context(charm.FlaskK8sCharm, meta=meta, **kwargs)

    return make


@pytest.fixture
def key_secret() -> testing.Secret:
    """The generated secret key, as the leader stored it."""
    return testing.Secret(
        {"value": "generated-key-7Qm2vXb9LrT4"}, owner="app", label="flask-secret-key"
    )


@pytest.fixture
def peers(key_secret: testing.Secret) -> testing.PeerRelation:
    return testing.PeerRelation(
        "secret-storage", local_app_data={"secret-key-id": key_secret.id or ""}
    )


@pytest.fixture
def state(
    workload: Workload, key_secret: testing.Secret, peers: testing.PeerRelation
) -> testing.State:
    """A leader whose secret key exists, with the rock's container ready."""
    return testing.State(
        leader=True,
        model=testing.Model(name="test-model"),
        containers={workload.container()},
        relations={peers},
        secrets={key_secret},
    )


@pytest.fixture
def pebble_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple, dict]]:
    """Every call the charm makes that changes the container, in order."""
    calls: list[tuple[str, tuple, dict]] = []
    for name in ("push", "exec", "add_layer", "replan", "restart", "start", "stop", "send_signal"):
        original = getattr(ops.Container, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):
            calls.append((_name, args, kwargs))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(ops.Container, name, spy)
    return calls
