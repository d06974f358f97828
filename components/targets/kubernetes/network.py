"""Network zones on Kubernetes: default deny, then exactly the traffic the zone labels declare.

Every pod carries `dreamscape.io/zone=<zone>` and `dreamscape.io/reaches-<zone>=true` for each zone it
declares in `Service.reaches` (components/targets/labels.py). Per namespace this module creates:

- `default-deny`: selects every pod, Ingress and Egress, no rules (nothing moves unless allowed below);
- `allow-dns`: every pod may query CoreDNS in kube-system (k3s: `k8s-app=kube-dns`) on UDP/TCP 53;
- per zone Z, `zone-<Z>-ingress`: pods of zone Z accept traffic from pods of zone Z itself, on every
  port (cluster peers: Redis/Kafka members, replication, an exporter beside its data service);
- per service with client ports, `clients-<service>` (`clients_policy`): pods labelled `reaches-Z=true`
  may open the service's client ports (`Port.audience` CLIENTS) and no other: never a cluster bus or a
  controller quorum port (PEERS), an exporter's metrics port (SCRAPER) or an admin console (OPERATORS);
- per zone Z, `zone-<Z>-egress`: pods labelled `reaches-Z=true` may send to zone Z, and pods of zone Z
  to their own zone;
- `scraper-egress`: the metrics scraper (`dreamscape.io/scraper=true`) may send to every pod of the
  namespace; the per-service `metrics-<service>` policies (`metrics_policy`) admit it, and only it, to
  each service's declared metrics ports (a port that also serves an API keeps its other callers). The
  scraper declares the zones it `scrapes`, not that it `reaches` them, so it opens no client port;
- explicit egress profiles (`dreamscape.io/egress`) replace a pod's zone-peer egress: `declared` (only
  the zones it declares), `datasources` (dashboards: only Prometheus and Loki, `dreamscape.io/datasource`),
  `receivers` (Alertmanager: nothing inside the cluster);
- per service with `internet_ports`, `internet-<service>` (`internet_policy`): exactly those TCP ports to
  public addresses, never a private range (Alertmanager: the ports of the configured receiver URLs);
- per service with `node_ports`, `nodes-<service>` (`nodes_policy`): exactly those TCP ports on the
  cluster's nodes (Prometheus: the kubelets' 10250). Node addresses are not known here either, so the peer
  is, as for the API server, any address outside the k3s pod/service CIDRs, on those ports only;
- per edge route, `edge-<route>` (`edge_policy`): only Traefik (kube-system, `app.kubernetes.io/name=traefik`)
  reaches the routed port of the routed service from outside the namespace; and `edge-acme-http01-solver`
  (`acme_solver_policy`): Traefik reaches cert-manager's HTTP-01 solver pods on 8089, nothing else does;
- `bigpods-internet-egress`: the bigpods zone may open TCP 443 to the internet (payment and AI
  providers), never to private/cluster ranges (`PRIVATE_CIDRS`: k3s pod 10.42/16 and service 10.43/16
  are inside 10/8), so in-cluster traffic stays limited to the zones a pod declares;
- `kube-api-egress`: pods labelled `dreamscape.io/kube-api=true` (services that declare `api_rules`)
  may reach the API server on TCP 443/6443. The `kubernetes` Service is DNATed to the node address
  (k3s: `<node-ip>:6443`) before the policy is evaluated, and node addresses are not known here, so the
  peer is any address outside the k3s pod/service CIDRs (`CLUSTER_CIDRS`) on those two ports only
  (`API_SERVER_CIDRS`; narrow it to the node subnet where that is known).

Named ports (`http`) are resolved against the destination pod's container ports, so new Big Pods only
have to name their HTTP port `http` to be routable through Traefik. Nothing here knows service names:
services that other components add later (Big Pods, monitoring) are covered by their zone labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.spec import Zone
from components.targets.kubernetes import issuers
from components.targets.kubernetes.pod import JsonDict
from components.targets.labels import (
    API_ACCESS_LABEL,
    DATASOURCE_LABEL,
    EGRESS_LABEL,
    NAME_LABEL,
    SCRAPER_LABEL,
    ZONE_LABEL,
    reaches_label,
)

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
SYSTEM_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
INGRESS_CONTROLLER_LABELS = {NAME_LABEL: "traefik"}
PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")
"""Never reachable through the internet egress rule: RFC 1918 (k3s pods 10.42/16, services 10.43/16),
link-local (cloud metadata endpoints) and carrier-grade NAT (Tailscale and similar overlays)."""
INTERNET_PORTS = (443,)
CLUSTER_CIDRS = ("10.42.0.0/16", "10.43.0.0/16")
"""k3s defaults: pod and service CIDRs (`--cluster-cidr`, `--service-cidr`)."""
API_SERVER_CIDRS = ("0.0.0.0/0",)
API_SERVER_PORTS = (443, 6443)
NODE_CIDRS = API_SERVER_CIDRS
"""The nodes' addresses: k3s serves the API on its server nodes, so both are wherever the nodes are."""


def _zone(zone: Zone) -> JsonDict:
    return {"match_labels": {ZONE_LABEL: zone.value}}


def _system_pods(labels: dict[str, str]) -> JsonDict:
    return {
        "namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: SYSTEM_NAMESPACE}},
        "pod_selector": {"match_labels": dict(labels)},
    }


def _tcp(*ports: int | str) -> list[JsonDict]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def _policy(name: str, selector: JsonDict, types: list[str], **rules: list[JsonDict]) -> JsonDict:
    return {"name": name, "spec": {"pod_selector": selector, "policy_types": types, **rules}}


def zone_policies(agents_namespace: str | None = None) -> list[JsonDict]:
    """The NetworkPolicies of one namespace, as `{"name", "spec"}` (pure; no resources created).

    `agents_namespace` is the environment's node-agents namespace (the log shipper): its monitoring pods
    may reach this namespace's monitoring zone (Loki), and nothing else."""
    policies = [
        _policy("default-deny", {}, ["Ingress", "Egress"]),
        _policy("allow-dns", {}, ["Egress"], egress=[{
            "to": [_system_pods(DNS_POD_LABELS)],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }]),
    ]
    for zone in Zone:
        policies.append(_policy(f"zone-{zone.value}-ingress", _zone(zone), ["Ingress"], ingress=[{
            "from": [{"pod_selector": _zone(zone)}],
        }]))
        policies.append(_policy(
            f"zone-{zone.value}-egress",
            {"match_labels": {reaches_label(zone): "true"}},
            ["Egress"],
            egress=[{"to": [{"pod_selector": _zone(zone)}]}],
        ))
        # A pod with an explicit egress profile gets that profile instead of its zone's peer egress.
        peers = {**_zone(zone), "match_expressions": [{"key": EGRESS_LABEL, "operator": "DoesNotExist"}]}
        policies.append(_policy(f"zone-{zone.value}-peers-egress", peers, ["Egress"],
                                egress=[{"to": [{"pod_selector": _zone(zone)}]}]))
    policies += [
        _policy("scraper-egress", {"match_labels": {SCRAPER_LABEL: "true"}}, ["Egress"], egress=[{"to": [
            {"pod_selector": {}},
            *([{"namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: agents_namespace}}}]
              if agents_namespace else []),
        ]}]),
        _policy("datasources-egress", {"match_labels": {EGRESS_LABEL: "datasources"}}, ["Egress"],
                egress=[{"to": [{"pod_selector": {"match_labels": {DATASOURCE_LABEL: "true"}}}]}]),
        _policy("bigpods-internet-egress", _zone(Zone.BIGPODS), ["Egress"], egress=[{
            "to": [{"ip_block": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_CIDRS)}}],
            "ports": _tcp(*INTERNET_PORTS),
        }]),
        *([_policy("monitoring-from-node-agents", _zone(Zone.MONITORING), ["Ingress"], ingress=[{"from": [{
            "namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: agents_namespace}},
            "pod_selector": _zone(Zone.MONITORING),
        }]}])] if agents_namespace else []),
        _policy("kube-api-egress", {"match_labels": {API_ACCESS_LABEL: "true"}}, ["Egress"], egress=[{
            "to": [{"ip_block": {"cidr": cidr, "except": list(CLUSTER_CIDRS)}} for cidr in API_SERVER_CIDRS],
            "ports": _tcp(*API_SERVER_PORTS),
        }]),
    ]
    return policies


def metrics_policy(service: str, pod_selector: dict[str, str], ports: list[int]) -> JsonDict:
    """Admit the metrics scraper to a service's declared metrics ports (one policy per such service)."""
    return _policy(f"metrics-{service}", {"match_labels": dict(pod_selector)}, ["Ingress"], ingress=[{
        "from": [{"pod_selector": {"match_labels": {SCRAPER_LABEL: "true"}}}],
        "ports": _tcp(*ports),
    }])


def from_namespace_policy(name: str, namespace: str, pod_selector: dict[str, str], ports: list[int]) -> JsonDict:
    """Admit every pod of another namespace (an operator's: KEDA's scalers) to exactly `ports` of the
    selected pods; the rest of that namespace's traffic stays denied."""
    return _policy(name, {"match_labels": dict(pod_selector)}, ["Ingress"], ingress=[{
        "from": [{"namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: namespace}}}],
        "ports": _tcp(*ports),
    }])


def clients_policy(service: str, zone: Zone, pod_selector: dict[str, str], ports: list[int]) -> JsonDict:
    """Admit the pods that declare they reach `zone` to a service's client ports, and only to those."""
    return _policy(f"clients-{service}", {"match_labels": dict(pod_selector)}, ["Ingress"], ingress=[{
        "from": [{"pod_selector": {"match_labels": {reaches_label(zone): "true"}}}],
        "ports": _tcp(*ports),
    }])


def internet_policy(service: str, pod_selector: dict[str, str], ports: list[int]) -> JsonDict:
    """Let a service open exactly `ports` to public addresses (never a private or cluster range)."""
    return _policy(f"internet-{service}", {"match_labels": dict(pod_selector)}, ["Egress"], egress=[{
        "to": [{"ip_block": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_CIDRS)}}],
        "ports": _tcp(*ports),
    }])


def nodes_policy(service: str, pod_selector: dict[str, str], ports: list[int]) -> JsonDict:
    """Let a service open exactly `ports` on the cluster's nodes (the kubelets), never a pod or Service."""
    return _policy(f"nodes-{service}", {"match_labels": dict(pod_selector)}, ["Egress"], egress=[{
        "to": [{"ip_block": {"cidr": cidr, "except": list(CLUSTER_CIDRS)}} for cidr in NODE_CIDRS],
        "ports": _tcp(*ports),
    }])


def edge_policy(route: str, pod_selector: dict[str, str], port: int) -> JsonDict:
    """Admit the ingress controller to exactly one exposed port of one service (one per edge route);
    nothing else in the namespace is reachable from outside it."""
    return _policy(f"edge-{route}", {"match_labels": dict(pod_selector)}, ["Ingress"], ingress=[{
        "from": [_system_pods(INGRESS_CONTROLLER_LABELS)],
        "ports": _tcp(port),
    }])


def acme_solver_policy() -> JsonDict:
    """Admit the ingress controller to cert-manager's HTTP-01 solver pods on their listen port, so a
    challenge Traefik forwards is answered; the solver pods get no other ingress and no egress."""
    return _policy("edge-acme-http01-solver", {"match_labels": dict(issuers.SOLVER_LABELS)}, ["Ingress"],
                   ingress=[{"from": [_system_pods(INGRESS_CONTROLLER_LABELS)],
                             "ports": _tcp(issuers.SOLVER_PORT)}])


def agent_policies(app_namespace: str) -> list[JsonDict]:
    """The node-agents namespace (the log shipper): deny by default; DNS, the Kubernetes API for pods that
    declare API rules, egress to the app namespace's monitoring zone (Loki), ingress from it (scrapes)."""
    app_monitoring = {
        "namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: app_namespace}},
        "pod_selector": _zone(Zone.MONITORING),
    }
    # The shipper pushes to Loki (a datasource), never to the app namespace's exporters.
    app_loki = {
        "namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: app_namespace}},
        "pod_selector": {"match_labels": {ZONE_LABEL: Zone.MONITORING.value, DATASOURCE_LABEL: "true"}},
    }
    common = [p for p in zone_policies() if p["name"] in ("default-deny", "allow-dns", "kube-api-egress")]
    return [
        *common,
        _policy("to-app-monitoring", _zone(Zone.MONITORING), ["Egress"], egress=[{"to": [app_loki]}]),
        _policy("from-app-monitoring", {}, ["Ingress"], ingress=[{"from": [{
            **app_monitoring, "pod_selector": {"match_labels": {SCRAPER_LABEL: "true"}}}]}]),
    ]


@dataclass(frozen=True)
class ZoneNetworkArgs:
    namespace: str
    provider: pulumi.ProviderResource
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    agents_namespace: str | None = None
    """The environment's node-agents namespace, admitted to the monitoring zone."""
    agents_of: str | None = None
    """Set when `namespace` IS a node-agents namespace: the app namespace it serves."""


class ZoneNetworkPolicies(pulumi.ComponentResource):
    """The namespace's NetworkPolicies (see the module docstring)."""

    def __init__(self, name: str, args: ZoneNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:kubernetes:ZoneNetworkPolicies", name, None, opts)
        policies = agent_policies(args.agents_of) if args.agents_of else zone_policies(args.agents_namespace)
        self.policies = [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy['name']}",
                metadata={
                    "name": policy["name"],
                    "namespace": args.namespace,
                    "labels": dict(args.labels),
                    **({"annotations": dict(args.annotations)} if args.annotations else {}),
                },
                spec=policy["spec"],
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
            for policy in policies
        ]
        self.register_outputs({"policies": [p["name"] for p in policies]})
