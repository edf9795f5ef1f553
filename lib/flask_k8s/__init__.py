"""flask-k8s: run a 12-factor Flask rock on Juju and Kubernetes.

The package is split by concern; ``charm.FlaskCharm`` ties them into one reconcile:

- ``config``: built-in and charm-author options, validated.
- ``paas_config``: ``paas-config.yaml`` at the charm root, read as paas-charm 1.12 reads it.
- ``status``: the statuses a reconcile ends in, and the one redaction set every status, action
  message and log line goes through.
- ``secrets``: Juju secrets, for secret options and the generated Flask secret key.
- ``proxy``: the model's proxy settings.
- ``state``: everything read from Juju, as one immutable ``CharmState``.
- ``environment``: the app's environment variables, computed from the state.
- ``gunicorn``, ``pebble_plan``, ``migrations``: what the workload should look like.
- ``gunicorn_master``: runs inside gunicorn's master (its source is copied into the config):
  the app's settings file, the default sizing, rolling reloads.
- ``plan``: all of the above as one ``WorkloadPlan``, computed without any ops call.
- ``workload``: the only module that talks to Pebble; applies a plan idempotently.
- ``integrations``: one pure requirer module per interface (databases, caches, S3, SAML,
  RabbitMQ, SMTP, OpenFGA, OIDC, HTTP proxy, tracing, ingress, logging);
  ``relations``: the Juju side of them (requests written, answers read).
- ``cos`` and ``observability``: the metrics-endpoint and grafana-dashboard providers.
- ``local``: the charm's workload path on this machine, under a real Pebble (``make run``).
"""
