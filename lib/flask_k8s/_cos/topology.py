"""The Juju topology: where a metric, a rule or a dashboard comes from."""

from __future__ import annotations

from .. import _record


class Topology(_record.Record):
    """The model, application, unit and charm that the observability data describes."""

    model: str
    model_uuid: str
    application: str
    unit: str
    charm_name: str

    def as_dict(self) -> dict[str, str]:
        """The topology as ``prometheus_scrape``'s ``scrape_metadata`` carries it."""
        return {
            "model": self.model,
            "model_uuid": self.model_uuid,
            "application": self.application,
            "unit": self.unit,
            "charm_name": self.charm_name,
        }

    def dashboard_dict(self) -> dict[str, str]:
        """The topology as ``grafana_dashboard`` carries it (no charm name)."""
        return {
            "model": self.model,
            "model_uuid": self.model_uuid,
            "application": self.application,
            "unit": self.unit,
        }

    @property
    def identifier(self) -> str:
        """A name unique to the application in the controller, for rule group names."""
        return f"{self.model}_{self.model_uuid}_{self.application}"

    def matchers(self) -> dict[str, str]:
        """The labels that scope a query to the application's series (all of its units)."""
        return {
            "juju_model": self.model,
            "juju_model_uuid": self.model_uuid,
            "juju_application": self.application,
        }

    def rule_labels(self) -> dict[str, str]:
        """The labels every alert of the application carries."""
        return {**self.matchers(), "juju_charm": self.charm_name}
