"""Annotations the Kubernetes target derives from neutral intents in a `spec.Service`.

- A port exposed with `sticky=True` pins clients to one replica: Traefik's sticky cookie on the Service.
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
    """The service's own pod annotations. Prometheus needs none: its relabelling keeps exactly the
    (service, port) pairs that declare a metrics path."""
    return dict(service.annotations)
