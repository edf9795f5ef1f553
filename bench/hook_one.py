"""One Juju hook in one fresh process: import a charm, handle config-changed, check the status.

``hook_cost.py`` times this whole process, because that is what every Juju event costs: a new
Python interpreter that imports the charm from scratch and handles a single event. Importing
ops.testing is part of both sides alike. The status is checked so a broken charm cannot look
fast.

Usage: ``python bench/hook_one.py flask|minimal``; exits 0 only if the charm ended as expected.
"""

from __future__ import annotations

import pathlib
import sys

import ops
import ops.testing

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
# Where each charm's modules live, put on sys.path the way Juju's dispatch does for a charm.
CHARM_PATHS = {
    "flask": (ROOT / "lib", ROOT / "src"),
    "minimal": (BENCH / "minimal_charm" / "src",),
}
CHARM_CLASSES = {"flask": "FlaskK8sCharm", "minimal": "MinimalCharm"}
# The services rockcraft's flask-framework extension puts in the rock's Pebble layer.
ROCK_LAYER: ops.pebble.LayerDict = {
    "summary": "flask-framework rock",
    "services": {
        "flask": {
            "override": "replace",
            "startup": "enabled",
            "user": "_daemon_",
            "command": "/bin/python3 -m gunicorn -c /flask/gunicorn.conf.py 'app:app' -k [ sync ]",
        },
        "statsd-exporter": {
            "override": "merge",
            "startup": "enabled",
            "command": "/bin/statsd_exporter",
        },
    },
}


def main(side: str) -> int:
    """Handle one config-changed event with the ``side`` charm; 0 if it ends as expected."""
    sys.path[:0] = [str(path) for path in CHARM_PATHS[side]]
    import charm

    charm_type = getattr(charm, CHARM_CLASSES[side])
    container = ops.testing.Container(
        "flask-app",
        can_connect=True,
        layers={"rock": ops.pebble.Layer(ROCK_LAYER)},
        # gunicorn's --check-config of a new config, run with the rock's Python.
        execs={ops.testing.Exec(["/bin/python3"], return_code=0)},
    )
    state = ops.testing.State(
        leader=True,
        config={"token": "abc"},
        relations={ops.testing.PeerRelation("secret-storage")},
        containers={container},
    )
    context = ops.testing.Context(charm_type)
    state_out = context.run(context.on.config_changed(), state)

    expected = ops.ActiveStatus() if side == "flask" else ops.UnknownStatus()
    if state_out.unit_status != expected:
        print(f"{side}: expected {expected!r}, got {state_out.unit_status!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHARM_PATHS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CHARM_PATHS)}")
    sys.exit(main(sys.argv[1]))
