"""The app's environment, computed from the state alone.

Computing the environment is kept apart from delivering it: the settings file, which
gunicorn's master applies on a rolling reload, and the layer of the workers and schedulers.
"""

from __future__ import annotations

import json

from . import config, spec, state


def build(charm_state: state.CharmState, workload: spec.WorkloadSpec) -> dict[str, str]:
    """Every variable the app, its workers and its migration see.

    User options come first and built-in variables last, so a user option can never
    override a built-in one (``state.build`` also refuses such options).
    """
    prefix = workload.env_prefix
    env: dict[str, str] = dict(charm_state.user_env)
    env.update(charm_state.proxy_env)
    # Integration variables come after the model's proxy: an http-proxy relation replaces it.
    env.update(charm_state.integration_env)
    env.update(config.builtin_env(charm_state.flask, prefix))
    env[prefix + "SECRET_KEY"] = charm_state.secret_key
    if charm_state.secret_key_fallbacks:
        # Flask >= 3.1 accepts sessions signed with these (from_prefixed_env reads JSON).
        env[prefix + "SECRET_KEY_FALLBACKS"] = json.dumps(list(charm_state.secret_key_fallbacks))
    # The ingress integration gives the external URL; without it, the URL inside the model.
    env[prefix + "BASE_URL"] = charm_state.integration_env.get(
        prefix + "BASE_URL"
    ) or charm_state.base_url(workload.port)
    if charm_state.peer_fqdns:
        env[prefix + "PEER_FQDNS"] = ",".join(charm_state.peer_fqdns)
    return env
