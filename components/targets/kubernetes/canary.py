"""Pure builders of a canary release's workload on Kubernetes (the edge's half is in edge.py).

A canary of service `core` is a Deployment and a ClusterIP Service named `core-canary`, on the canary's
image and otherwise the stable's pod template: same container, ConfigMap, Secret, probes, resources and
zone labels (so the zone NetworkPolicies give it the stable's reach). Its pods differ in identity:
`app.kubernetes.io/name: core-canary` (so neither the stable Service, its Deployment, its disruption
budget nor its autoscaler selects them) and `track: canary` (what Prometheus copies onto their series, so
the promotion check tells the two releases apart).

Choices:
- one replica (`spec.CANARY_REPLICAS`), counted in the capacity budget; no autoscaler (KEDA scales the
  stable; a canary that scaled with load would stop being a small share) and no PodDisruptionBudget (a
  budget on one replica only blocks drains: a drained canary loses its share to nothing, since Traefik
  sends a weighted service's requests to the arm that has ready endpoints);
- Kubernetes-internal clients keep calling the stable Service: only public requests are split.
"""

from __future__ import annotations

from dataclasses import replace

from components.spec import Service, canary_name
from components.targets.kubernetes.pod import JsonDict
from components.targets.labels import CANARY_TRACK, TRACK_LABEL, selector_labels


def canary_selector(service: str, environment: str) -> dict[str, str]:
    """The canary pods of service `service` (what its Deployment, Service and policies select)."""
    return selector_labels(canary_name(service), environment)


def canary_labels(labels: dict[str, str], service: Service, environment: str) -> dict[str, str]:
    """The stable's labels with the canary's identity and track."""
    return {**labels, **canary_selector(service.name, environment), TRACK_LABEL: CANARY_TRACK}


def canary_service(service: Service) -> Service:
    """The service as its canary runs it: the canary's image and replicas, no autoscaler."""
    if service.canary is None:
        raise ValueError(f"{service.name} has no canary")
    container = replace(service.container, image=service.canary.image)
    return replace(service, container=container, replicas=service.canary.replicas, autoscale=None, canary=None)


def canary_template(template: JsonDict, labels: dict[str, str], image: str) -> JsonDict:
    """The stable's pod template with the canary's labels and image (everything else shared)."""
    spec = dict(template["spec"])
    spec["containers"] = [{**container, "image": image} for container in spec["containers"]]
    # The stable's spread constraints select the stable's pods; one canary replica needs none.
    spec.pop("topology_spread_constraints", None)
    return {**template, "metadata": {**template["metadata"], "labels": labels}, "spec": spec}
