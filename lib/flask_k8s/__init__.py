"""flask-k8s: run a 12-factor Flask rock on Juju and Kubernetes.

The package is split by concern; ``charm.FlaskCharm`` ties them into one reconcile:

- ``config``: built-in and charm-author options, validated.
- ``secrets``: Juju secrets, for secret options and the generated Flask secret key.
- ``proxy``: the model's proxy settings.
- ``state``: everything read from Juju, as one immutable ``CharmState``.
- ``environment``: the app's environment variables, computed from the state.
- ``gunicorn``, ``pebble_plan``, ``migrations``: what the workload should look like.
- ``plan``: all of the above as one ``WorkloadPlan``, computed without any ops call.
- ``workload``: the only module that talks to Pebble; applies a plan idempotently.
"""
