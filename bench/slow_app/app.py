"""The bench's app: like examples/flask-app, but slow to import and with pages to probe it.

- Importing it takes at least a second, as a real app's imports and set-up can: a worker that
  has to load the app again (a restart, a reload) cannot answer for that long, which makes any
  pause in serving visible to ``bench/availability.py``.
- ``/`` answers a short text at once; ``/wait`` after 10 ms (a request that waits on I/O).
- ``/env/<NAME>`` is the variable ``NAME`` as this worker saw it when it imported the app, as
  ``app.config.from_prefixed_env()`` reads it: which settings the answering worker has.
- ``/pid`` is the answering worker's PID (its parent is the gunicorn master).

No migration script: the bench must not depend on one.
"""

import os
import time

import flask

time.sleep(1.0)
ENVIRON = dict(os.environ)

app = flask.Flask(__name__)
app.config.from_prefixed_env()


@app.route("/")
def index():
    return "ok\n"


@app.route("/wait")
def wait():
    time.sleep(0.01)
    return "waited\n"


@app.route("/env/<name>")
def env(name):
    """The variable's value at import; 404 if it was unset."""
    if name not in ENVIRON:
        return flask.Response(f"{name} is not set\n", status=404, mimetype="text/plain")
    return flask.Response(ENVIRON[name], mimetype="text/plain")


@app.route("/pid")
def pid():
    return flask.Response(str(os.getpid()), mimetype="text/plain")
