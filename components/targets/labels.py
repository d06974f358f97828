"""Labels shared by both targets, so selectors, scrapers and policies agree on one vocabulary."""

from __future__ import annotations

from collections.abc import Mapping

from components.spec import Zone

PART_OF = "dreamscape"
ZONE_LABEL = "dreamscape.io/zone"
API_ACCESS_LABEL = "dreamscape.io/kube-api"
"""On pods of services that declare `api_rules`: their NetworkPolicy egress includes the API server."""


SCRAPER_LABEL = "dreamscape.io/scraper"
"""On the metrics scraper's pods: the only pods admitted to other services' metrics ports."""
EGRESS_LABEL = "dreamscape.io/egress"
"""An explicit egress profile replacing the zone's peer egress: `declared` (only the zones the service
declares in `reaches`), `datasources` (only pods labelled DATASOURCE_LABEL: dashboards), `receivers`
(only the internet's HTTPS and SMTP ports: notifications)."""
DATASOURCE_LABEL = "dreamscape.io/datasource"
"""On pods dashboards may query (Prometheus, Loki)."""
TRACK_LABEL = "track"
"""On a canary release's pods (value CANARY_TRACK), and on their metric series (Prometheus copies it): what
tells the canary's requests from the stable's (tools/release/canary.py). Stable pods carry no track label."""
CANARY_TRACK = "canary"


def reaches_label(zone: Zone) -> str:
    return f"dreamscape.io/reaches-{zone.value}"


def selector_labels(name: str, environment: str) -> dict[str, str]:
    """The minimal, immutable identity used in selectors."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": environment}


def workload_labels(
    name: str,
    component: str,
    environment: str,
    zone: Zone,
    reaches: frozenset[Zone],
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    labels = {
        **selector_labels(name, environment),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        ZONE_LABEL: zone.value,
    }
    labels.update({reaches_label(zone): "true" for zone in sorted(reaches)})
    labels.update(extra or {})
    return labels
