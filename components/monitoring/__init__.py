"""Monitoring, organised by tool: prometheus/, alertmanager/, grafana/, loki/, alloy/, exporters/.

Each tool package holds its blueprint builder and component (`component.py`) and its pure config renderers
(`config.py`); `stack.py` builds and deploys them for one environment. Import from the module that defines
a name: this package re-exports nothing.
"""
