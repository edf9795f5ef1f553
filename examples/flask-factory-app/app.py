"""An example app built with flask_k8s_app's factory: extensions in a declared order.

``create_app`` loads the config from what flask-k8s provides, then FlaskK8s (health
endpoints for Pebble, JSON request logs, per-route metrics, tracing), then the built-in
extensions: logs, security headers, CORS (only when CORS_ORIGINS is set), the database
(Flask-SQLAlchemy and Flask-Migrate on the related PostgreSQL) and the cache (Flask-Caching on
the related Redis). The heartbeat then checks the database, its migrations, Redis and the
cache, plus the app's own check below. migrate.sh runs the migrations; the app never does.
"""

from __future__ import annotations

import flask

import flask_k8s_app

database = flask_k8s_app.Database()
db = database.db


class Note(db.Model):
    """A line of text, kept in PostgreSQL."""

    __tablename__ = "notes"
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text, nullable=False)


def create_app(config: dict | None = None) -> flask.Flask:
    """The app, configured from the environment (``config`` wins, for tests)."""
    app = flask_k8s_app.create_app(
        __name__, extensions=("log", "security", "cors", database, "cache"), config=config
    )
    k8s = flask_k8s_app.extension("k8s", app)

    @k8s.check
    def notes_table() -> list[flask_k8s_app.CheckMessage]:
        """The app's own check: a warning, not a failure, while there is nothing to show."""
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            return []
        with app.app_context():
            count = db.session.query(Note).count()
        return [] if count else [flask_k8s_app.Info("no notes yet", id="notes.I001")]

    cache = flask_k8s_app.extension("cache", app)

    @app.get("/")
    def index():
        return "Hello from a Flask app built with flask_k8s_app.create_app\n"

    @app.route("/notes", methods=["GET", "POST"])
    def notes():
        """POST /notes?body=... adds a note; GET lists them (cached for a second)."""
        if flask.request.method == "POST":
            db.session.add(Note(body=flask.request.args.get("body", "")))
            db.session.commit()
            cache.delete("notes")
        listed = cache.get("notes")
        if listed is None:
            listed = [note.body for note in db.session.query(Note).order_by(Note.id)]
            cache.set("notes", listed, timeout=1)
        return flask.jsonify(notes=listed)

    @app.get("/request-id")
    def request_id():
        """The id of this request, as the logs carry it."""
        return flask.jsonify(request_id=flask.g.request_id)

    return app


app = create_app()
