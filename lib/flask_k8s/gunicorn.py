"""gunicorn: the config file the charm writes, and the service command's worker class.

The file is Python that gunicorn executes, so only values the charm validated (integers) and
the spec's own paths go in, each written with ``repr``: no config or relation value can add
code to it.
"""

from __future__ import annotations

import shlex

from . import config, spec, status

# gunicorn sends its error log to stderr; these handlers send both logs to stdout, where
# Pebble collects (and later forwards) them.
_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {
            "level": "INFO",
            "handlers": ["error_console"],
            "propagate": False,
            "qualname": "gunicorn.error",
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["console"],
            "propagate": False,
            "qualname": "gunicorn.access",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stdout",
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "error",
            "stream": "ext://sys.stdout",
        },
    },
    "formatters": {
        "access": {"format": "%(message)s"},
        "error": {
            "format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S %z",
        },
    },
}


def render_config(webserver: config.WebserverConfig, workload: spec.WorkloadSpec) -> str:
    """The content of gunicorn.conf.py for these settings."""
    settings: list[tuple[str, object]] = [
        ("bind", [f"0.0.0.0:{workload.port}"]),
        ("chdir", workload.app_dir),
        ("accesslog", "-"),
        ("errorlog", "-"),
        ("logconfig_dict", _LOGGING),
        ("statsd_host", workload.statsd_host),
    ]
    tunables = (
        ("workers", webserver.workers),
        ("threads", webserver.threads),
        ("timeout", webserver.timeout),
        ("keepalive", webserver.keepalive),
    )
    settings.extend((name, int(value)) for name, value in tunables if value is not None)
    lines = ["# Written by flask-k8s from the charm's config; local changes are overwritten."]
    lines.extend(f"{name} = {value!r}" for name, value in settings)
    return "\n".join(lines) + "\n" + _PREFIX_HOOK


# Static code, the same in every config: an ingress that strips the app's path prefix says
# which prefix in X-Forwarded-Prefix; from a trusted forwarder (gunicorn's
# forwarded_allow_ips, which the ingress integration sets), it becomes the WSGI SCRIPT_NAME,
# so the app's url_for() builds external URLs with the prefix.
_PREFIX_HOOK = """

def post_worker_init(worker):
    app = worker.wsgi
    trusted = worker.cfg.forwarded_allow_ips

    def with_forwarded_prefix(environ, start_response):
        prefix = environ.get("HTTP_X_FORWARDED_PREFIX", "").rstrip("/")
        peer = environ.get("REMOTE_ADDR")
        if prefix.startswith("/") and ("*" in trusted or peer in trusted):
            environ["SCRIPT_NAME"] = prefix + environ.get("SCRIPT_NAME", "")
        return app(environ, start_response)

    worker.wsgi = with_forwarded_prefix
"""


def split_command(command: str) -> list[str]:
    """A Pebble service command as arguments, without Pebble's ``[ default args ]`` brackets."""
    return [arg for arg in shlex.split(command) if arg not in ("[", "]")]


def set_worker_class(command: str, worker_class: str | None) -> str:
    """The service command with its ``-k`` argument set to ``worker_class``.

    Rewriting is idempotent, so it works on the rock's command and on one already rewritten.
    """
    if worker_class is None:
        return command
    args = shlex.split(command)
    for index, arg in enumerate(args):
        if arg in ("-k", "--worker-class"):
            target = index + 1
            if target < len(args) and args[target] == "[":
                target += 1
            if target < len(args) and args[target] != "]":
                args[target] = worker_class
                return _join(args)
        if arg.startswith("--worker-class="):
            args[index] = f"--worker-class={worker_class}"
            return _join(args)
    raise status.Blocked(
        "invalid config: webserver-worker-class is set but the rock's flask service command "
        "has no -k argument"
    )


def _join(args: list[str]) -> str:
    """Arguments as a command line; Pebble's ``[ ]`` brackets stay bare, as the rock wrote them."""
    return " ".join(arg if arg in ("[", "]") else shlex.quote(arg) for arg in args)


def check_command(command: str, config_path: str) -> list[str]:
    """The service command, made to check ``config_path`` and the app, then exit."""
    args = split_command(command)
    for index, arg in enumerate(args):
        if arg in ("-c", "--config") and index + 1 < len(args):
            args[index + 1] = config_path
            break
        if arg.startswith("--config="):
            args[index] = f"--config={config_path}"
            break
    else:
        args += ["-c", config_path]
    return [*args, "--check-config"]


def interpreter(command: str) -> str:
    """The Python the rock runs gunicorn with, for running the app's own Python scripts."""
    args = split_command(command)
    if args and _is_python(args):
        return args[0]
    return "python3"


def _is_python(args: list[str]) -> bool:
    return "python" in args[0].rsplit("/", 1)[-1]
