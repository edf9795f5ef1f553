"""The test runs see a newcomer's machine: nothing an earlier run left in the rock's paths."""

import configparser
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).parents[2]
HERMETIC = ROOT / "scripts" / "hermetic.sh"


def _in_private_namespace(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a mount namespace of its own: what it mounts stays there."""
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-euc", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_leftovers_of_earlier_runs_are_out_of_sight():
    # A machine where an earlier run left the app and the charm's records behind.
    result = _in_private_namespace(
        "for d in /flask /var/lib/flask-k8s /dev/shm; do mount -t tmpfs leftovers $d; done\n"
        "mkdir /flask/app /dev/shm/flask-k8s\n"
        "touch /flask/app/app.py /var/lib/flask-k8s/migration.sha256\n"
        "touch /dev/shm/flask-k8s/environment.json\n"
        f"env -u FLASK_K8S_HERMETIC {HERMETIC} ls -A /flask /var/lib/flask-k8s /dev/shm"
    )

    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["/dev/shm:", "/flask:", "/var/lib/flask-k8s:"]


def test_what_a_run_writes_there_is_gone_when_it_ends():
    result = _in_private_namespace(
        "for d in /flask /var/lib/flask-k8s /dev/shm; do mount -t tmpfs clean $d; done\n"
        f"env -u FLASK_K8S_HERMETIC {HERMETIC} "
        "touch /flask/written /var/lib/flask-k8s/written /dev/shm/written\n"
        "ls -A /flask /var/lib/flask-k8s /dev/shm"
    )

    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["/dev/shm:", "/flask:", "/var/lib/flask-k8s:"]


def test_make_test_runs_the_unit_and_integration_suites_under_the_guard():
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")

    for env in ("testenv:unit", "testenv:integration"):
        commands = tox[env]["commands"]
        pytest_lines = [line for line in commands.splitlines() if "pytest" in line]
        assert pytest_lines, env
        assert all(
            line.strip().startswith("{tox_root}/scripts/hermetic.sh") for line in pytest_lines
        )
