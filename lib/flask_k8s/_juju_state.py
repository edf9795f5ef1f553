"""Juju read into a ``_state.CharmState``: the shell around the pure ``_state.build``.

The only place that reads config, secrets, relations and the charm's process environment;
every secret value read is added to the hook's redactor at once.
"""

from __future__ import annotations

import os
import time

import ops

from . import _config, _juju_relations, _juju_secrets, _paas_config, _spec, _state, _status


def _unit_number(unit: ops.Unit) -> int:
    return int(unit.name.rsplit("/", 1)[1])


def read_state(
    charm: ops.CharmBase,
    workload_spec: _spec.WorkloadSpec,
    external_url: str | None,
    paas: _paas_config.PaasConfig,
    redactor: _status.Redactor | None = None,
) -> _state.CharmState:
    """Read Juju into a CharmState, or raise the status that says what is missing.

    Every secret value is added to ``redactor`` as soon as it is read, so that whatever
    stops the reconcile later cannot quote it.
    """
    model = charm.model
    hide = redactor or _status.Redactor()
    peers = model.get_relation(workload_spec.peer_relation)
    peer_units = sorted(peers.units, key=_unit_number) if peers else []

    def read_secret(option: str, secret_id: str) -> dict[str, str]:
        content = _juju_secrets.read_option_secret(model, option, secret_id)
        hide.add(*content.values())
        return content

    shared: list[tuple[str, tuple[_juju_secrets.Fallback, ...]] | None] = []

    def generated_secret_key() -> str | None:
        shared.append(_juju_secrets.shared_secret(model, peers))
        if shared[0] is None:
            return None
        key, previous = shared[0]
        hide.add(key, *(fallback.value for fallback in previous))
        return key

    def generated_fallbacks() -> tuple[str, ...]:
        return _juju_secrets.live(shared[0][1], time.time()) if shared and shared[0] else ()

    def previous_keys(key: str, session_lifetime: float) -> tuple[str, ...]:
        found = _juju_secrets.key_history(
            model, peers, key, now=time.time(), session_lifetime=session_lifetime
        )
        hide.add(*found)
        return found

    return _state.build(
        values=charm.config,
        options=_config.load_options(charm.charm_dir),
        unit=_state.Unit(
            app_name=model.app.name,
            model_name=model.name,
            unit_name=model.unit.name,
            is_leader=model.unit.is_leader(),
            peer_units=[unit.name for unit in peer_units],
        ),
        reads=_state.Reads(
            read_secret=read_secret,
            generated_secret_key=generated_secret_key,
            generated_fallbacks=generated_fallbacks,
            previous_keys=previous_keys,
            integrations=lambda: _juju_relations.collect(charm, workload_spec, external_url, hide),
        ),
        environ=os.environ,
        workload_spec=workload_spec,
        json_logging=paas.json_logging,
    )
