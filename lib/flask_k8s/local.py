"""Run a Flask app the way the charm runs it, under a real Pebble on this machine.

No Juju here: config values come from the command line, the secret key is generated locally,
and the rest is the charm's own code path: ``_state.build``, ``_workload_plan.build`` and
``_pebble_apply.reconcile`` through ``ops.Container`` over a real ``ops.pebble.Client``.

The "rock" is laid out as rockcraft's flask-framework extension lays it out: the app in
/flask/app owned by ``_daemon_``, gunicorn and the app's requirements in a Python
environment, the statsd exporter with its mapping, and the same Pebble layer. ``make setup``
installs it under /opt/flask-k8s. Needs root, as Pebble does in a container.

    python -m flask_k8s.local --app examples/flask-app token=abc
"""

from __future__ import annotations

import argparse
import collections.abc
import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import typing

import ops
import yaml

from . import (
    _config,
    _juju_secrets,
    _paas_config,
    _pebble_apply,
    _record,
    _spec,
    _state,
    _status,
)

PREFIX = pathlib.Path(os.environ.get("FLASK_K8S_PREFIX", "/opt/flask-k8s"))


class Rock(_record.Record):
    """Where the local stand-in for the rock's files lives."""

    prefix: pathlib.Path = PREFIX

    @property
    def bin_dir(self) -> pathlib.Path:
        """The rock's programs: its Python, gunicorn and the statsd exporter."""
        return self.prefix / "rock" / "bin"

    @property
    def python(self) -> pathlib.Path:
        """The rock's Python, with gunicorn and the app's requirements."""
        return self.bin_dir / "python3"

    @property
    def exporter(self) -> pathlib.Path:
        """The statsd exporter binary."""
        return self.bin_dir / "statsd_exporter"

    @property
    def mapping(self) -> pathlib.Path:
        """The statsd mapping that turns gunicorn's metrics into flask_* metrics."""
        return self.prefix / "rock" / "statsd-mapping.conf"

    @property
    def pebble(self) -> pathlib.Path:
        """The Pebble binary (Juju puts one in every workload container)."""
        return self.prefix / "bin" / "pebble"

    def layer(self, worker_class: str = "sync", wsgi: str = "app:app") -> dict[str, typing.Any]:
        """The Pebble layer rockcraft's flask-framework extension writes into the rock."""
        return {
            "summary": "flask-framework rock layer",
            "services": {
                "flask": {
                    "override": "replace",
                    "startup": "enabled",
                    "after": ["statsd-exporter"],
                    "user": "_daemon_",
                    "command": (
                        f"{self.python} -m gunicorn -c /flask/gunicorn.conf.py '{wsgi}' "
                        f"-k [ {worker_class} ]"
                    ),
                },
                "statsd-exporter": {
                    "override": "merge",
                    "command": (
                        f"{self.exporter} --statsd.mapping-config={self.mapping} "
                        "--statsd.listen-udp=localhost:9125 --statsd.listen-tcp=localhost:9125"
                    ),
                    "summary": "statsd exporter service",
                    "startup": "enabled",
                    "user": "_daemon_",
                },
            },
        }

    def missing(self) -> list[str]:
        """What `make setup` has not installed yet."""
        paths = (self.python, self.exporter, self.mapping, self.pebble)
        missing = [str(path) for path in paths if not path.exists()]
        try:
            pwd.getpwnam("_daemon_")
        except KeyError:
            missing.append("user _daemon_")
        return missing


# The gunicorn config rockcraft's flask-framework extension puts in the rock.
ROCK_GUNICORN_CONFIG = """bind = ['0.0.0.0:8000']
chdir = '/flask/app'
statsd_host = 'localhost:9125'
"""


def install_app(source: pathlib.Path, workload_spec: _spec.WorkloadSpec = _spec.FLASK) -> None:
    """Lay out the container's files as a freshly started rock has them.

    The app is copied to the app directory, owned by the rock's user; the rock's own gunicorn
    config is restored; and the charm's records and settings file are removed, as a new
    container has none.
    """
    app_dir = pathlib.Path(workload_spec.app_dir)
    if app_dir.exists():
        shutil.rmtree(app_dir)
    shutil.copytree(source, app_dir, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    pathlib.Path(workload_spec.gunicorn_config_path).write_text(ROCK_GUNICORN_CONFIG)
    shutil.rmtree(workload_spec.state_dir, ignore_errors=True)
    pathlib.Path(workload_spec.settings_file).unlink(missing_ok=True)
    user = pwd.getpwnam(workload_spec.user)
    for path in [app_dir, *app_dir.rglob("*"), pathlib.Path(workload_spec.gunicorn_config_path)]:
        os.chown(path, user.pw_uid, user.pw_gid)


class Pebble:
    """A Pebble daemon in its own directory, started with the rock's layer and held."""

    def __init__(self, rock: Rock, directory: pathlib.Path, layer: dict[str, typing.Any]):
        self.rock = rock
        self.directory = directory
        (directory / "layers").mkdir(parents=True, exist_ok=True)
        (directory / "layers" / "001-flask-framework.yaml").write_text(yaml.safe_dump(layer))
        self.socket = directory / ".pebble.socket"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, log: typing.IO[bytes] | int = subprocess.DEVNULL) -> None:
        """Start ``pebble run --hold``, as Juju does, and wait for its API.

        The rock's programs come first on the PATH that services and execs inherit, as in a
        rock, where ``python3`` in a migration script is the Python with the app's packages.
        """
        path = os.pathsep.join([str(self.rock.bin_dir), os.environ.get("PATH", os.defpath)])
        env = {**os.environ, "PEBBLE": str(self.directory), "PATH": path}
        self.process = subprocess.Popen(
            [str(self.rock.pebble), "run", "--hold"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = ops.pebble.Client(socket_path=str(self.socket))
        deadline = time.monotonic() + 30
        while True:
            try:
                client.get_system_info()
                return
            except (ops.pebble.ConnectionError, FileNotFoundError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("Pebble did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop Pebble and every service it runs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def container(self, name: str = "flask-app") -> ops.Container:
        """An ``ops.Container`` over a real Pebble client, as the charm gets in Juju."""
        # The Juju context is public ops API; the backend is not: ops has no public way to
        # build one outside a hook, and the Container reads only the Juju version from it.
        # This is the one use of private ops API in the library (README, "For charm authors").
        context = ops.JujuContext(
            dispatch_path="",
            hook_name="",
            model_name="local",
            model_uuid="",
            unit_name="flask-k8s/0",
            version=ops.JujuVersion("3.6.0"),
            charm_dir=pathlib.Path.cwd(),
            debug_at=set(),
        )
        backend = ops.model._ModelBackend(  # pyright: ignore[reportPrivateUsage] (see above)
            unit_name=context.unit_name, model_name=context.model_name, juju_context=context
        )
        return ops.Container(name, backend, ops.pebble.Client(socket_path=str(self.socket)))


def _exit(_signal: int, _frame: object) -> None:
    sys.exit(0)


def local_state(
    values: dict[str, typing.Any],
    secret_key: str,
    options: dict[str, _config.OptionMeta] | None = None,
    environ: dict[str, str] | None = None,
    is_leader: bool = True,
    *,
    integrations: collections.abc.Callable[[], _state.Integrations] | None = None,
    json_logging: bool = False,
    secret_key_fallbacks: tuple[str, ...] = (),
) -> _state.CharmState:
    """A CharmState from plain config values, with the charm's own validation.

    ``integrations`` stands in for the related applications (no Juju relations here);
    ``secret_key_fallbacks`` for the previous keys a rotation keeps.
    """

    def no_secrets(option: str, _: str) -> dict[str, str]:
        raise _status.Blocked(f"invalid config: {option} is a Juju secret; not available locally")

    if options is None:
        options = _config.load_options(pathlib.Path.cwd())
    return _state.build(
        values=values,
        options=options,
        unit=_state.Unit(
            app_name="flask-k8s", model_name="local", unit_name="flask-k8s/0", is_leader=is_leader
        ),
        reads=_state.Reads(
            read_secret=no_secrets,
            generated_secret_key=lambda: secret_key,
            generated_fallbacks=lambda: secret_key_fallbacks,
            integrations=integrations,
        ),
        environ=environ if environ is not None else {},
        json_logging=json_logging,
    )


def _parse_value(text: str) -> typing.Any:
    value = yaml.safe_load(text)
    return value if isinstance(value, (bool, int, float)) else text


def config_values(
    options: collections.abc.Mapping[str, _config.OptionMeta],
    arguments: collections.abc.Iterable[str],
) -> dict[str, typing.Any]:
    """What ``self.config`` would hold: each option's default, then ``OPTION=VALUE`` arguments."""
    values = {name: meta.default for name, meta in options.items() if meta.default is not None}
    for argument in arguments:
        name, _, value = argument.partition("=")
        values[name] = _parse_value(value)
    return values


def main(argv: list[str] | None = None) -> int:
    """Serve the app on localhost:8000 until interrupted."""
    parser = argparse.ArgumentParser(
        description="Run a Flask app the way the charm runs it, under a real Pebble."
    )
    parser.add_argument("--app", type=pathlib.Path, default=pathlib.Path("examples/flask-app"))
    parser.add_argument(
        "--charm-dir",
        type=pathlib.Path,
        default=pathlib.Path.cwd(),
        help="where the charm's charmcraft.yaml (or config.yaml) is: its options and defaults",
    )
    parser.add_argument("--prefix", type=pathlib.Path, default=PREFIX, help="from make setup")
    parser.add_argument("--once", action="store_true", help="check it serves, then stop")
    parser.add_argument("options", nargs="*", metavar="OPTION=VALUE")
    args = parser.parse_args(argv)
    rock = Rock(args.prefix)
    missing = rock.missing()
    if missing:
        print(f"not installed: {', '.join(missing)}; run `make setup`", file=sys.stderr)
        return 2
    options = _config.load_options(args.charm_dir)
    values = config_values(options, args.options)
    install_app(args.app)
    with tempfile.TemporaryDirectory(prefix="flask-k8s-pebble-") as directory:
        pebble = Pebble(rock, pathlib.Path(directory), rock.layer())
        pebble.start()
        try:
            charm_state = local_state(
                values,
                _juju_secrets.new_key(),
                options=options,
                environ=dict(os.environ),
                json_logging=_paas_config.load(args.charm_dir).json_logging,
            )
            _pebble_apply.reconcile(pebble.container(), charm_state, _spec.FLASK)
            url = f"http://localhost:{_spec.FLASK.port}/"
            _wait_for(url)
            print(f"flask-k8s example app serving at {url} (PEBBLE={directory})", flush=True)
            if not args.once:
                signal.signal(signal.SIGTERM, _exit)
                while True:
                    signal.pause()
        except KeyboardInterrupt:
            pass
        except _status.StatusError as error:
            print(f"{type(error).__name__.lower()}: {error.message}", file=sys.stderr)
            return 1
        finally:
            pebble.stop()
    return 0


def _wait_for(url: str, timeout: float = 30) -> None:
    import urllib.request  # noqa: PLC0415 (only the local runner needs it)

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer in {timeout:g}s")
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
