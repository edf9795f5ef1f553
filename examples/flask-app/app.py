"""An example 12-factor Flask app: all of its settings come from the environment.

flask-k8s hands it FLASK_* variables and one set of variables per integration; the
``flask_k8s_app.FlaskK8s`` extension loads them into ``app.config`` (JSON values such as
``true`` and ``3`` become Python values), and gives the app what the charm wires up:
``/__lbheartbeat__`` and ``/__heartbeat__`` for Pebble's checks (with a database and a Redis
check once those are integrated), ``/__version__``, a JSON summary of each request with its
request and trace ids, per-route metrics, and Flask's tracing when the charm is related to
Tempo. Without an integration the app still runs, and only the pages that need it answer 503.
"""

import hashlib
import os
import pathlib

import flask

import flask_k8s_app

app = flask.Flask(__name__)
k8s = flask_k8s_app.FlaskK8s(app)

MIGRATIONS_LOG = pathlib.Path(os.environ.get("MIGRATIONS_LOG", "/tmp/flask-app-migrations.log"))


@app.route("/")
def index():
    return "Hello from a Flask app run by flask-k8s\n"


@app.route("/url")
def url():
    """The app's own external URL, as url_for builds it behind an ingress."""
    return flask.jsonify(url=flask.url_for("index", _external=True))


@app.route("/session", methods=["GET", "POST"])
def session():
    """POST stores ?value= in the signed session cookie; GET reads it back (None if refused)."""
    if flask.request.method == "POST":
        flask.session["value"] = flask.request.args.get("value", "")
    return flask.jsonify(value=flask.session.get("value"))


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


@app.route("/fail")
def fail():
    """Raise: Flask logs the error (with the request's trace ids in JSON logs) and answers 500."""
    raise RuntimeError("the /fail page always fails")


def _unavailable(variable):
    """503 naming the variable: the app runs without the integration, the page does not."""
    message = f"{variable} is not set: integrate the charm with a provider"
    return flask.jsonify(error=message), 503


def _failed(service, error):
    """503 with the first line of the client's error (libpq and redis-py show no password)."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return flask.jsonify(error=f"{service}: {reason}"), 503


@app.route("/db", methods=["GET", "POST"])
def db():
    """Notes in PostgreSQL: POST /db?note=... adds one, GET lists them.

    POSTGRESQL_DB_CONNECT_STRING is a postgresql:// URI with percent-encoded credentials,
    which psycopg (libpq) takes as it is. migrate.sh created the table.
    """
    url = os.environ.get("POSTGRESQL_DB_CONNECT_STRING")
    if not url:
        return _unavailable("POSTGRESQL_DB_CONNECT_STRING")
    # Imported on first use: each client takes longer to import than Flask, and gunicorn
    # loads the app for every check and worker.
    import psycopg  # noqa: PLC0415

    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            if flask.request.method == "POST":
                note = flask.request.args.get("note", "")
                connection.execute("INSERT INTO notes (body) VALUES (%s)", (note,))
            user, database = connection.execute(
                "SELECT current_user, current_database()"
            ).fetchone()
            notes = [row[0] for row in connection.execute("SELECT body FROM notes ORDER BY id")]
    except psycopg.Error as error:
        return _failed("PostgreSQL", error)
    return flask.jsonify(user=user, database=database, notes=notes)


@app.route("/cache/<key>", methods=["GET", "POST"])
def cache(key):
    """A value in Redis: POST /cache/<key>?value=... sets it, GET reads it (null if unset)."""
    url = os.environ.get("REDIS_DB_CONNECT_STRING")
    if not url:
        return _unavailable("REDIS_DB_CONNECT_STRING")
    import redis  # noqa: PLC0415 (see db)

    try:
        client = redis.Redis.from_url(url, socket_timeout=5, decode_responses=True)
        if flask.request.method == "POST":
            client.set(f"flask-app:{key}", flask.request.args.get("value", ""))
        value = client.get(f"flask-app:{key}")
    except redis.RedisError as error:
        return _failed("Redis", error)
    return flask.jsonify(key=key, value=value)
