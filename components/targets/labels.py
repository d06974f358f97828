"""Labels shared by both targets, so selectors, scrapers and policies agree on one vocabulary."""

from __future__ import annotations

from collections.abc import Mapping

from components.spec import Zone

NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABEL = "app.kubernetes.io/component"
PART_OF_LABEL = "app.kubernetes.io/part-of"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
PART_OF = "dreamscape"
MANAGED_BY = "pulumi"
ENVIRONMENT_LABEL = "dreamscape.io/environment"
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


def ownership_labels() -> dict[str, str]:
    """What every object the stack creates carries: whose it is and what manages it."""
    return {PART_OF_LABEL: PART_OF, MANAGED_BY_LABEL: MANAGED_BY}


def selector_labels(name: str, environment: str) -> dict[str, str]:
    """The minimal, immutable identity used in selectors."""
    return {NAME_LABEL: name, INSTANCE_LABEL: environment}


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
        COMPONENT_LABEL: component,
        **ownership_labels(),
        ZONE_LABEL: zone.value,
    }
    labels.update({reaches_label(zone): "true" for zone in sorted(reaches)})
    labels.update(extra or {})
    return labels
