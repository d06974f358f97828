"""Annotations the Kubernetes target derives from neutral intents in a `spec.Service`.

- A port exposed with `sticky=True` pins clients to one replica: Traefik's sticky cookie on the Service.
- A service with metrics ports opts its pods into Prometheus' pod discovery (`prometheus.io/scrape`).
"""

from __future__ import annotations

from components.spec import Service, Text

STICKY_COOKIE = "dreamscape_affinity"
_STICKY = "traefik.ingress.kubernetes.io/service.sticky.cookie"


def service_annotations(service: Service) -> dict[str, str]:
    if not any(port.exposure is not None and port.exposure.sticky for port in service.ports):
        return {}
    return {
        _STICKY: "true",
        f"{_STICKY}.name": STICKY_COOKIE,
        f"{_STICKY}.secure": "true",
        f"{_STICKY}.httponly": "true",
        f"{_STICKY}.samesite": "lax",
    }


def pod_annotations(service: Service) -> dict[str, Text]:
    annotations = dict(service.annotations)
    if service.metrics_ports:
        annotations["prometheus.io/scrape"] = "true"
        paths = {port.metrics_path for port in service.metrics_ports}
        if len(paths) == 1:
            annotations["prometheus.io/path"] = paths.pop() or "/metrics"
        if len(service.metrics_ports) == 1:
            annotations["prometheus.io/port"] = str(service.metrics_ports[0].number)
    return annotations
