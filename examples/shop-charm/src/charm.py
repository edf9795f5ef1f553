#!/usr/bin/env python3
"""The shop: flask-k8s's charm, with a relation, variables, steps and an action of its own."""

from __future__ import annotations

import typing

import ops
import pydantic

import flask_k8s

SHOP_CONFIG = "/flask/app/shop.conf"


class PaymentsAnswer(pydantic.BaseModel):
    """What the payments provider writes in its application databag."""

    url: pydantic.AnyHttpUrl
    timeout: int = 5


class ShopCharm(flask_k8s.FlaskCharm):
    """flask-k8s's charm for the shop."""

    # The payments relation: PAYMENTS_URL, PAYMENTS_TIMEOUT and the token from the
    # provider's secret (PAYMENTS_TOKEN), waited for until the provider sent a URL.
    requirers: typing.ClassVar = {
        "payments": flask_k8s.Databag(
            PaymentsAnswer,
            prefix="PAYMENTS_",
            required=["url"],
            secret_fields=["token-secret"],
            request={"app": "shop"},
        )
    }

    # The payments settings as a file too (0600, the app's user): rendered from the charm's
    # template with the app's environment, written before the app gets new settings.
    templates: typing.ClassVar = {"/flask/app/payments.toml": "templates/payments.toml.j2"}

    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        framework.observe(self.on.shop_info_action, self._on_shop_info)

    def extra_environment(self, charm_state: flask_k8s.CharmState) -> dict[str, str]:
        """SHOP_CURRENCY from the shop's option, and the unit, for the app's logs."""
        currency = str(charm_state.user_env.get("FLASK_SHOP_CURRENCY") or "EUR")
        return {"SHOP_CURRENCY": currency.upper(), "SHOP_UNIT": charm_state.unit_name}

    def before_settings(self, container: ops.Container, charm_state: flask_k8s.CharmState) -> None:
        """Write the shop's config file before the app reads the new settings."""
        currency = charm_state.user_env.get("FLASK_SHOP_CURRENCY", "EUR")
        if currency.upper() not in ("EUR", "USD", "GBP"):
            raise flask_k8s.Blocked(f"shop-currency must be EUR, USD or GBP, not {currency!r}")
        container.push(
            SHOP_CONFIG,
            f"currency = {currency.upper()}\n",
            make_dirs=True,
            user=self.workload_spec.user,
            group=self.workload_spec.group,
        )

    def after_settings(self, container: ops.Container, charm_state: flask_k8s.CharmState) -> None:
        """Say in the unit's log that the app has the new settings."""
        self.unit.set_workload_version("shop")

    def _on_shop_info(self, event: ops.ActionEvent) -> None:
        def info(container: ops.Container, charm_state: flask_k8s.CharmState) -> dict[str, object]:
            if event.params.get("fail"):
                raise flask_k8s.Blocked("the shop is closed")
            return {
                "unit": charm_state.unit_name,
                "payments": "PAYMENTS_URL" in charm_state.integration_env,
                # Shown as *** : results go through the same redaction as statuses.
                "key": charm_state.secret_key,
            }

        self.run_action(event, info)


if __name__ == "__main__":  # pragma: nocover
    ops.main(ShopCharm)
