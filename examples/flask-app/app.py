"""An example 12-factor Flask app: all of its settings come from the environment.

flask-k8s hands it FLASK_* variables; ``from_prefixed_env`` loads them into ``app.config``
(JSON values such as ``true`` and ``3`` become Python values).
"""

import hashlib
import os
import pathlib

import flask

app = flask.Flask(__name__)
app.config.from_prefixed_env()

MIGRATIONS_LOG = pathlib.Path(os.environ.get("MIGRATIONS_LOG", "/tmp/flask-app-migrations.log"))


@app.route("/")
def index():
    return "Hello from a Flask app run by flask-k8s\n"


@app.route("/token")
def token():
    """The user-defined `token` option, which flask-k8s passes as FLASK_TOKEN."""
    return flask.jsonify(token=app.config.get("TOKEN"))


@app.route("/secret-key-digest")
def secret_key_digest():
    """A digest of the secret key: enough to compare units, without showing the key."""
    key = app.config.get("SECRET_KEY") or ""
    return flask.jsonify(sha256=hashlib.sha256(str(key).encode()).hexdigest())


@app.route("/config")
def config():
    """The non-secret settings the app was given."""
    names = (
        "ENV",
        "DEBUG",
        "PERMANENT_SESSION_LIFETIME",
        "APPLICATION_ROOT",
        "SESSION_COOKIE_SECURE",
        "PREFERRED_URL_SCHEME",
        "BASE_URL",
        "PEER_FQDNS",
    )
    plain = (str, int, float, bool, type(None))
    values = {name: app.config.get(name) for name in names}
    return flask.jsonify(
        {name: value if isinstance(value, plain) else str(value) for name, value in values.items()}
    )


@app.route("/process")
def process():
    """This worker's PID and its gunicorn master's, to see restarts and reloads."""
    return flask.jsonify(pid=os.getpid(), master_pid=os.getppid(), user=os.getuid())


@app.route("/migrations")
def migrations():
    """What migrate.sh recorded."""
    text = MIGRATIONS_LOG.read_text() if MIGRATIONS_LOG.exists() else ""
    return flask.jsonify(runs=text.splitlines())


@app.route("/status/<int:code>")
def status(code):
    """Answer with any status code, to generate 4xx and 5xx traffic."""
    return flask.Response(f"status {code}\n", status=code)
