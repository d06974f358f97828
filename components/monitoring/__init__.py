"""Monitoring stack: Prometheus, Alertmanager, Grafana, Loki and Alloy, plus the infrastructure exporters.

Every piece is a `spec.Service` deployed through the environment's target; `config/` renders the files.
"""

from components.monitoring import footprint as _footprint  # noqa: F401  (registers the budget source)
from components.monitoring.alertmanager import AlertReceivers, EmailSettings
from components.monitoring.stack import MonitoringStack, MonitoringStackArgs, Scraped

__all__ = ["AlertReceivers", "EmailSettings", "MonitoringStack", "MonitoringStackArgs", "Scraped"]
