#!/usr/bin/env python3
"""flask-k8s: the charm for a Flask rock built with rockcraft's flask-framework extension."""

import ops

import flask_k8s


class FlaskK8sCharm(flask_k8s.FlaskCharm):
    """flask-k8s as published: the library's charm with Flask's defaults."""


if __name__ == "__main__":  # pragma: nocover
    ops.main(FlaskK8sCharm)
