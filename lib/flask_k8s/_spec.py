"""What a framework's rock looks like: the names and paths the charm relies on.

Flask's values are the defaults. A charm author whose rock differs (another port, another
service name) passes their own ``WorkloadSpec`` to ``FlaskCharm``.
"""

from __future__ import annotations

from . import _record


class WorkloadSpec(_record.Record):
    """Names and paths of the workload, as rockcraft's flask-framework extension builds it."""

    container: str = "flask-app"
    service: str = "flask"
    exporter_service: str = "statsd-exporter"
    base_dir: str = "/flask"
    app_dir: str = "/flask/app"
    port: int = 8000
    user: str = "_daemon_"
    group: str = "_daemon_"
    env_prefix: str = "FLASK_"
    option_prefix: str = "flask-"
    peer_relation: str = "secret-storage"
    statsd_host: str = "localhost:9125"
    # Where the charm keeps its own records in the workload container. Both the records and
    # the charm's Pebble layer vanish together when the container is recreated.
    state_dir: str = "/var/lib/flask-k8s"
    # The app's environment, which gunicorn's master applies when it starts and reloads: on
    # a tmpfs, so it lives as long as the container and never on the node's disk. Readable
    # by root and the rock's user only, like the environment of the app's processes.
    settings_file: str = "/dev/shm/flask-k8s/environment.json"  # noqa: S108 (checked: Pebble's)
    check_timeout: float = 120.0
    # Pebble health checks: a check goes down after `check_threshold` failures in a row, so
    # after 30s by default: a slow request or a reload does not flap the status.
    check_period: int = 10
    check_threshold: int = 3
    exporter_port: int = 9102

    @property
    def gunicorn_config_path(self) -> str:
        """The gunicorn config file the rock's service command loads."""
        return f"{self.base_dir}/gunicorn.conf.py"


FLASK = WorkloadSpec()
"""The spec of a rock built with rockcraft's flask-framework extension."""
