"""Monitoring, organised by tool: prometheus/, alertmanager/, grafana/, loki/, alloy/, exporters/.

Each tool package holds its component (`component.py`, the `spec.Service` it deploys) and its pure config
renderers (`config.py`); `stack.py` wires them for one environment. Import from the module that defines a
name: this package re-exports nothing.
"""

from components.monitoring import footprint as _footprint  # noqa: F401  (registers the budget source)
