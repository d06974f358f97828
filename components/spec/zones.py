"""Network zones: declared once with the services, realised by each target.

Docker: one network per zone (data zones internal). Kubernetes: a zone label on every pod and
NetworkPolicies that admit traffic into a zone only from pods that declare they reach it.
"""

from __future__ import annotations

from enum import StrEnum


class Zone(StrEnum):
    BIGPODS = "bigpods"
    DATABASE = "database"
    CACHE = "cache"
    MESSAGING = "messaging"
    STORAGE = "storage"
    MONITORING = "monitoring"


DATA_ZONES = frozenset({Zone.DATABASE, Zone.CACHE, Zone.MESSAGING, Zone.STORAGE})
"""Zones that hold data: internal networks with no route to the outside world."""
