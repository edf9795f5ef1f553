"""The app's environment, computed from the state alone.

Computing the environment is kept apart from delivering it (the Pebble layer today), so that a
later delivery can hand a new environment to a running gunicorn without a restart.
"""

from __future__ import annotations

from . import config, spec, state


def build(charm_state: state.CharmState, workload: spec.WorkloadSpec) -> dict[str, str]:
    """Every variable the app, its workers and its migration see.

    User options come first and built-in variables last, so a user option can never
    override a built-in one (``state.from_charm`` also refuses such options).
    """
    prefix = workload.env_prefix
    env: dict[str, str] = dict(charm_state.user_env)
    env.update(charm_state.proxy_env)
    # Integration variables come after the model's proxy: an http-proxy relation replaces it.
    env.update(charm_state.integration_env)
    env.update(config.builtin_env(charm_state.flask, prefix))
    env[prefix + "SECRET_KEY"] = charm_state.secret_key
    # The ingress integration gives the external URL; without it, the URL inside the model.
    env[prefix + "BASE_URL"] = charm_state.integration_env.get(
        prefix + "BASE_URL"
    ) or charm_state.base_url(workload.port)
    if charm_state.peer_fqdns:
        env[prefix + "PEER_FQDNS"] = ",".join(charm_state.peer_fqdns)
    return env
