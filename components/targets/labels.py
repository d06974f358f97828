"""Labels shared by both targets, so selectors, scrapers and policies agree on one vocabulary."""

from __future__ import annotations

from collections.abc import Mapping

from components.spec import Zone

PART_OF = "dreamscape"
ZONE_LABEL = "dreamscape.io/zone"
API_ACCESS_LABEL = "dreamscape.io/kube-api"
"""On pods of services that declare `api_rules`: their NetworkPolicy egress includes the API server."""


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
