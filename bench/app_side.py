"""What flask_k8s_app costs the app: import time and time per request.

Each round, interleaved: a fresh interpreter imports Flask alone, then Flask and
flask_k8s_app (what a gunicorn worker pays once); and the same trivial route answers
``--requests`` requests through Flask's test client in a plain app and in one with FlaskK8s
(request id, summary log line at INFO to a null stream, one statsd datagram to a closed UDP
port). Medians of ``--rounds`` rounds, printed as a Markdown table.

    .venv/bin/python bench/app_side.py --rounds 7
"""

from __future__ import annotations

import argparse
import io
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "flask-k8s-app" / "src"

IMPORT = """
import sys, time
start = time.perf_counter()
import flask
{extra}
print(time.perf_counter() - start)
"""


def import_seconds(extra: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT.format(extra=extra)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(PACKAGE)},
    )
    return float(result.stdout.strip())


def make_app(with_extension: bool):
    import flask

    app = flask.Flask(f"bench-{with_extension}")

    @app.get("/items/<int:item>")
    def item(item: int):
        return {"item": item}

    if with_extension:
        import flask_k8s_app
        import flask_k8s_app._logs as logs

        app.config["K8S_LOG_FORMAT"] = "json"
        app.config["K8S_STATSD_HOST"] = "127.0.0.1:9"  # discard: nothing listens
        flask_k8s_app.FlaskK8s(app)
        for handler in logs.logging.getLogger().handlers:
            if isinstance(handler, logs.Handler):
                handler.setStream(io.StringIO())
    return app


def per_request(app, requests: int) -> float:
    client = app.test_client()
    client.get("/items/1")
    start = time.perf_counter()
    for number in range(requests):
        client.get(f"/items/{number}")
    return (time.perf_counter() - start) / requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    sys.path.insert(0, str(PACKAGE))
    plain_app, k8s_app = make_app(False), make_app(True)
    results: dict[str, list[float]] = {"flask": [], "k8s": [], "req_flask": [], "req_k8s": []}
    for _ in range(args.rounds):
        results["flask"].append(import_seconds(""))
        results["k8s"].append(import_seconds("import flask_k8s_app"))
        results["req_flask"].append(per_request(plain_app, args.requests))
        results["req_k8s"].append(per_request(k8s_app, args.requests))
    median = {name: statistics.median(values) for name, values in results.items()}
    print(f"medians of {args.rounds} interleaved rounds\n")
    print("| | Flask alone | Flask + flask_k8s_app | difference |")
    print("|---|---|---|---|")
    print(
        f"| import (ms) | {median['flask'] * 1e3:.1f} | {median['k8s'] * 1e3:.1f} | "
        f"+{(median['k8s'] - median['flask']) * 1e3:.1f} |"
    )
    print(
        f"| per request, test client (µs) | {median['req_flask'] * 1e6:.0f} | "
        f"{median['req_k8s'] * 1e6:.0f} | +{(median['req_k8s'] - median['req_flask']) * 1e6:.0f} |"
    )


if __name__ == "__main__":
    main()
