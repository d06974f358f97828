"""A tiny NetworkPolicy evaluator: enough of the Kubernetes semantics to check reachability.

Semantics modelled (networking.k8s.io/v1):
- a pod not selected by any policy of a direction is open in that direction;
- a selected pod admits a connection if ANY selecting policy has a rule whose peers AND ports match;
- a connection needs both the source's egress and the destination's ingress to allow it;
- peers: `podSelector` alone (same namespace as the policy), `namespaceSelector` alone (all pods of
  matching namespaces), both (AND), `ipBlock` (cidr minus except, matched against the endpoint's IP);
- ports: empty = all; a number or a named port resolved against the destination's container ports;
- selectors: `matchLabels` and `matchExpressions` (In, NotIn, Exists, DoesNotExist).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    name: str
    namespace: str
    labels: Mapping[str, str]
    ip: str
    ports: Mapping[str, int] = field(default_factory=dict)
    """Named container ports (name -> number)."""
    namespace_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def ns_labels(self) -> Mapping[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace, **self.namespace_labels}


def selects(selector: JsonDict | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return True


def _peer_matches(peer: JsonDict, policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(c) for c in block.get("except") or [])
    pod_selector = peer.get("podSelector")
    namespace_selector = peer.get("namespaceSelector")
    if namespace_selector is None:
        if other.namespace != policy_namespace:
            return False
    elif not selects(namespace_selector, other.ns_labels):
        return False
    return selects(pod_selector, other.labels)


def _port_matches(ports: Sequence[JsonDict] | None, destination: Endpoint, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str) and not wanted.isdigit():
            if destination.ports.get(wanted) == port:
                return True
        elif int(wanted) == port:
            return True
    return False


@dataclass(frozen=True)
class Policy:
    namespace: str
    spec: JsonDict

    def selects(self, endpoint: Endpoint) -> bool:
        return endpoint.namespace == self.namespace and selects(self.spec.get("podSelector") or {},
                                                                 endpoint.labels)

    def has(self, direction: str) -> bool:
        return direction in (self.spec.get("policyTypes") or ["Ingress"])


class Cluster:
    """Endpoints and policies; `allowed(src, dst, port)` answers one connection attempt."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = list(policies)

    def _direction_allows(self, direction: str, *, subject: Endpoint, other: Endpoint, destination: Endpoint,
                          port: int, protocol: str) -> bool:
        applicable = [p for p in self.policies if p.has(direction) and p.selects(subject)]
        if not applicable:
            return True
        rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for policy in applicable:
            for rule in policy.spec.get(rules_key) or []:
                peers = rule.get(peers_key)
                peer_ok = not peers or any(_peer_matches(p, policy.namespace, other) for p in peers)
                if peer_ok and _port_matches(rule.get("ports"), destination, port, protocol):
                    return True
        return False

    def allowed(self, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
        return (self._direction_allows("Egress", subject=source, other=destination, destination=destination,
                                       port=port, protocol=protocol)
                and self._direction_allows("Ingress", subject=destination, other=source,
                                           destination=destination, port=port, protocol=protocol))
