#!/usr/bin/env python3
"""The least an ops charm can be: the baseline flask-k8s' hook cost is measured against."""

import ops


class MinimalCharm(ops.CharmBase):
    """Observes config-changed and does nothing, so only ops' own cost remains."""

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        framework.observe(self.on.config_changed, self._on_config_changed)

    def _on_config_changed(self, _: ops.ConfigChangedEvent) -> None:
        pass


if __name__ == "__main__":  # pragma: nocover
    ops.main(MinimalCharm)
