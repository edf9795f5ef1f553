"""The app's environment, computed from the state alone.

Computing the environment is kept apart from delivering it: the settings file, which
gunicorn's master applies on a rolling reload, and the layer of the workers and schedulers.
"""

from __future__ import annotations

import collections.abc
import json
import re
import typing

from . import _config, _spec, _state, _status

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_extra(
    extra: collections.abc.Mapping[str, str],
    charm_state: _state.CharmState,
    workload_spec: _spec.WorkloadSpec,
) -> dict[str, str]:
    """The charm author's variables, or Blocked naming one that would replace another's.

    A variable flask-k8s, an option or an integration sets is refused, like an option
    that would set one: a silent override is a wrong setting nobody can find.
    """
    if not extra:
        return {}  # The usual case: no need to build the environment an extra time.
    others = build(charm_state, workload_spec)
    problems: list[str] = []
    for name, value in extra.items():
        # The author's code may return anything, whatever its annotation says.
        if not _NAME.fullmatch(name) or not isinstance(typing.cast("object", value), str):
            problems.append(f"{name!r} is not a variable name with a text value")
        elif name in others:
            problems.append(f"{name} is set already (by flask-k8s, an option or an integration)")
    if problems:
        raise _status.Blocked(f"extra_environment: {'; '.join(problems)}")
    return dict(extra)


def build(charm_state: _state.CharmState, workload_spec: _spec.WorkloadSpec) -> dict[str, str]:
    """Every variable the app, its workers and its migration see.

    User options come first and built-in variables last, so a user option can never
    override a built-in one (``_state.build`` also refuses such options).
    """
    prefix = workload_spec.env_prefix
    env: dict[str, str] = dict(charm_state.user_env)
    env.update(charm_state.proxy_env)
    # Integration variables come after the model's proxy: an http-proxy relation replaces it.
    env.update(charm_state.integration_env)
    env.update(charm_state.extra_env)
    env.update(_config.builtin_env(charm_state.flask, prefix))
    env[prefix + "SECRET_KEY"] = charm_state.secret_key
    if charm_state.secret_key_fallbacks:
        # Flask >= 3.1 accepts sessions signed with these (from_prefixed_env reads JSON).
        env[prefix + "SECRET_KEY_FALLBACKS"] = json.dumps(list(charm_state.secret_key_fallbacks))
    # The ingress integration gives the external URL; without it, the URL inside the model.
    env[prefix + "BASE_URL"] = charm_state.integration_env.get(
        prefix + "BASE_URL"
    ) or charm_state.base_url(workload_spec.port)
    if charm_state.peer_fqdns:
        env[prefix + "PEER_FQDNS"] = ",".join(charm_state.peer_fqdns)
    return env
