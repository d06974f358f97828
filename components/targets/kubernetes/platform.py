"""The Kubernetes target: k3s for prod and review stacks.

Realises a `spec.Service` as a Deployment (stateless) or a StatefulSet with volumeClaimTemplates
(stateful), a ClusterIP Service `<name>`, a headless Service `<name>-peers` for member identity,
a Secret and a ConfigMap for its files, and a PodDisruptionBudget when it has more than one replica
(one per redundancy group, over all of the group's services).

The environment's namespace enforces the `restricted` Pod Security Standard, which forbids hostPath
volumes. The one documented exception: a service with node mounts (`HostMount(node=True)`, per-node log
shippers) runs in a second namespace `<namespace>-node-agents` labelled `privileged`, created on first use.
Its pods resolve the environment's services by plain name (a DNS search domain for the environment's
namespace), and its `api_rules` are granted in the environment's namespace (Role + RoleBinding there,
bound to the agent's ServiceAccount across namespaces). Its containers keep every other hardening
(non-root, no privilege escalation, no capabilities, read-only root filesystem).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import KubernetesConfig, StackConfig
from components.spec import (
    ApiScope,
    Database,
    Probes,
    Redundancy,
    Route,
    ServerCertificate,
    Service,
    Task,
    Text,
    WorkloadKind,
    canary_name,
    peers_name,
)
from components.spec.access import Access
from components.spec.tls import SECRET_KEYS, TLS_DIR
from components.targets.base import Deployed, TargetSettings
from components.targets.kubernetes import access as access_grants
from components.targets.kubernetes import canary, cnpg, issuers, operators, pki, scaling, workloads
from components.targets.kubernetes.annotations import pod_annotations, service_annotations
from components.targets.kubernetes.edge import Edge, EdgeArgs
from components.targets.kubernetes.facts import CLUSTER_DOMAIN
from components.targets.kubernetes.network import (
    ZoneNetworkArgs,
    ZoneNetworkPolicies,
    acme_solver_policy,
    clients_policy,
    edge_policy,
    from_namespace_policy,
    internet_policy,
    metrics_policy,
    nodes_policy,
)
from components.targets.kubernetes.pod import (
    JsonDict,
    config_hash,
    container_spec,
    env_key,
    key_for,
    pod_security,
    prefixed_volumes,
)
from components.targets.kubernetes.restore_verify import RestoreVerify, RestoreVerifyArgs
from components.targets.labels import (
    API_ACCESS_LABEL,
    COMPONENT_LABEL,
    ENVIRONMENT_LABEL,
    PART_OF,
    PART_OF_LABEL,
    ownership_labels,
    selector_labels,
    workload_labels,
)


@dataclass(frozen=True)
class KubernetesTargetArgs:
    settings: TargetSettings
    kubernetes: KubernetesConfig


AGENTS_SUFFIX = "-node-agents"


def namespace_name(settings: TargetSettings, config: KubernetesConfig) -> str:
    return config.namespace_for(settings.environment)


def needs_node_access(service: Service) -> bool:
    """hostPath volumes break the restricted standard; such services run in the node-agents namespace."""
    return any(mount.node for mount in service.container.host_mounts)


def service_policies(service: Service, name: str, selector: dict[str, str]) -> list[JsonDict]:
    """The NetworkPolicies of one service's pods (`selector`): the scraper to its metrics ports, the zone's
    clients to its client ports, its declared internet and node ports. A canary gets the stable's, named for it."""
    metrics_ports = [p.number for p in service.metrics_ports]
    client_ports = [p.number for p in service.client_ports]
    return [
        *([metrics_policy(name, selector, metrics_ports)] if metrics_ports else []),
        *([clients_policy(name, service.zone, selector, client_ports)] if client_ports else []),
        *([internet_policy(name, selector, list(service.internet_ports))] if service.internet_ports else []),
        *([nodes_policy(name, selector, list(service.node_ports))] if service.node_ports else []),
    ]


def same_redundancy_group(service: Service, other: Service | Task) -> bool:
    """Both are services whose members belong to one redundancy group (a Redis master and its replica)."""
    return (isinstance(other, Service) and service.redundancy is not None and other.redundancy is not None
            and service.redundancy.group == other.redundancy.group)


class KubernetesPlatform(pulumi.ComponentResource):
    """Provider and namespace of one environment; deploys services into them."""

    registry_pull_secret: str | None = None
    """Set by `grant_access` when the stack has registry credentials (components/targets/kubernetes/access.py)."""

    def __init__(self, name: str, args: KubernetesTargetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:kubernetes:Platform", name, None, opts)
        self.settings = args.settings
        self._config = args.kubernetes
        self.namespace_name = namespace_name(args.settings, args.kubernetes)
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self._kubeconfig(name, args.kubernetes),
            context=args.kubernetes.context,
            # Review clusters may vanish before their stacks do; destroy must still succeed.
            delete_unreachable=not args.settings.protect,
            opts=args.settings.provider_opts(self),
        )
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": self.namespace_name,
                "labels": {
                    PART_OF_LABEL: PART_OF,
                    ENVIRONMENT_LABEL: args.settings.environment,
                    # Every workload here meets the restricted Pod Security Standard; enforce it.
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                },
                "annotations": dict(args.settings.annotations),
            },
            opts=self._opts(self, protect=args.settings.protect),
        )
        self.agents_namespace_name = f"{self.namespace_name}{AGENTS_SUFFIX}"
        self._budgeted_groups: set[str] = set()
        self._agents_namespace: k8s.core.v1.Namespace | None = None
        # Default deny; traffic only as the zone labels declare (components/targets/kubernetes/network.py).
        self.network = ZoneNetworkPolicies(f"{name}-network", ZoneNetworkArgs(
            namespace=self.namespace_name, provider=self.provider,
            labels=ownership_labels(),
            annotations=dict(args.settings.annotations),
            agents_namespace=self.agents_namespace_name,
        ), pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]))
        self.crds: dict[tuple[str, str], pulumi.Resource] = {}
        """The CRD this program registers for each (group, kind); custom resources depend on it."""
        self.operators: tuple[operators.Operator, ...] = (
            operators.OPERATORS if args.kubernetes.install_operators else ())
        """The operators this stack installs (none where the cluster's owner installs them)."""
        self._cert_manager: pulumi.Resource | None = None
        self._install_operators(name)
        self.ca_issuer = self._pki(name)
        self.register_outputs({"namespace": self.namespace.metadata["name"]})

    def _pki(self, name: str) -> pulumi.Resource:
        """The environment's own CA, in its namespace (kubernetes/pki.py says why not cluster-wide): a
        self-signed Issuer signs the CA certificate, and a CA Issuer over it signs every server certificate."""
        validity = pki.Validity(duration=self._config.pki.ca_duration, renew_before=self._config.pki.ca_renew_before)
        waits = [self.namespace, *([self._cert_manager] if self._cert_manager is not None else [])]
        labels = {**ownership_labels(), COMPONENT_LABEL: "pki"}
        self_signed = k8s.apiextensions.CustomResource(
            f"{name}-pki-selfsigned", api_version=pki.API_VERSION, kind=pki.ISSUER,
            metadata=self._metadata(pki.SELF_SIGNED, labels), spec=pki.self_signed_issuer_spec(),
            opts=self.custom_resource_opts(self, pki.API_VERSION, pki.ISSUER, depends_on=waits))
        # Replacing the CA would make every client's trust file stale at once: protected with the data.
        ca = k8s.apiextensions.CustomResource(
            f"{name}-pki-ca", api_version=pki.API_VERSION, kind=pki.CERTIFICATE,
            metadata=self._metadata(pki.CA_NAME, labels),
            spec=pki.ca_certificate_spec(self.settings.environment, validity),
            opts=self.custom_resource_opts(self, pki.API_VERSION, pki.CERTIFICATE, depends_on=[self_signed],
                                           protect=self.settings.protect))
        return k8s.apiextensions.CustomResource(
            f"{name}-pki-issuer", api_version=pki.API_VERSION, kind=pki.ISSUER,
            metadata=self._metadata(pki.CA_NAME, labels), spec=pki.ca_issuer_spec(),
            opts=self.custom_resource_opts(self, pki.API_VERSION, pki.ISSUER, depends_on=[ca]))

    def _certificate(self, certificate: ServerCertificate, labels: dict[str, str], parent: pulumi.Resource,
                     secret_labels: dict[str, str] | None = None) -> pulumi.Resource:
        """A server certificate from the environment's CA; cert-manager keeps its Secret renewed."""
        validity = pki.Validity(duration=self._config.pki.duration, renew_before=self._config.pki.renew_before)
        return k8s.apiextensions.CustomResource(
            f"{certificate.name}-certificate", api_version=pki.API_VERSION, kind=pki.CERTIFICATE,
            metadata=self._metadata(pki.secret_name(certificate), labels),
            spec=pki.server_certificate_spec(certificate, self.namespace_name, validity, secret_labels),
            opts=self.custom_resource_opts(parent, pki.API_VERSION, pki.CERTIFICATE,
                                           depends_on=[self.namespace, self.ca_issuer]))

    def _install_operators(self, name: str) -> None:
        """Every operator's vendored CRDs, then its HelmChart (operators.py says why in this order).

        Deleting a CRD deletes every custom resource of its kind, and a CloudNativePG `Cluster` owns its
        volume claims: CRDs are protected on a protected stack and always retained on delete."""
        charts: dict[str, pulumi.Resource] = {}
        for operator in self.operators:
            crds: list[pulumi.Resource] = []
            for crd in operator.crds():
                resource = k8s.apiextensions.v1.CustomResourceDefinition(
                    f"{name}-crd-{crd['metadata']['name']}",
                    metadata={"name": crd["metadata"]["name"],
                              "labels": {PART_OF_LABEL: PART_OF,
                                         "dreamscape.io/operator": operator.name,
                                         "dreamscape.io/operator-version": operator.app_version}},
                    spec=crd["spec"],
                    opts=self._opts(self, protect=self.settings.protect, retain_on_delete=True),
                )
                self.crds[operators.crd_kind(crd)] = resource
                crds.append(resource)
            charts[operator.name] = k8s.apiextensions.CustomResource(
                f"{name}-operator-{operator.name}",
                api_version=operators.HELM_CHART_API,
                kind="HelmChart",
                metadata={"name": operator.name, "namespace": operators.HELM_NAMESPACE,
                          "labels": ownership_labels()},
                spec=operators.helm_chart_spec(operator),
                opts=self._opts(self, depends_on=[*crds, *(charts[before] for before in operator.after)]),
            )
        if operators.CERT_MANAGER.name in charts:
            self._cert_manager = charts[operators.CERT_MANAGER.name]
            self._cluster_issuers(name, self._cert_manager)

    def _cluster_issuers(self, name: str, cert_manager: pulumi.Resource) -> None:
        """Let's Encrypt production and staging, cluster-wide, next to cert-manager (kubernetes/issuers.py)."""
        edge = self._config.edge
        for issuer in issuers.cluster_issuers(edge.acme_server):
            k8s.apiextensions.CustomResource(
                f"{name}-cluster-issuer-{issuer.name}",
                api_version=issuers.API_VERSION,
                kind=issuers.KIND,
                metadata={"name": issuer.name,
                          "labels": ownership_labels()},
                spec=issuers.cluster_issuer_spec(issuer, edge.acme_email),
                opts=self.custom_resource_opts(self, issuers.API_VERSION, issuers.KIND, depends_on=[cert_manager]),
            )

    def custom_resource_opts(self, parent: pulumi.Resource, api_version: str, kind: str,
                             **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a custom resource: after the CRD of its kind when this program registers it."""
        crd = self.crds.get((api_version.split("/", maxsplit=1)[0], kind))
        depends = [*kwargs.pop("depends_on", []), *([crd] if crd is not None else [])]
        return self._opts(parent, depends_on=depends, **kwargs)

    def _qualify(self, name: str) -> str:
        """A service of the environment's namespace, as a resolver in another namespace names it."""
        return f"{name}.{self.namespace_name}.svc.{CLUSTER_DOMAIN}"

    def _kubeconfig(self, name: str, config: KubernetesConfig) -> pulumi.Input[str] | None:
        """The cluster stack's `kubeconfig` output when `clusterStack` is set (kept secret); else the
        configured kubeconfig, or None for the ambient KUBECONFIG."""
        if config.cluster_stack is None:
            return config.kubeconfig
        cluster = pulumi.StackReference(f"{name}-cluster", stack_name=config.cluster_stack,
                                        opts=pulumi.ResourceOptions(parent=self))
        return pulumi.Output.secret(cluster.require_output("kubeconfig"))

    def _opts(self, parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **kwargs)

    def _agents(self) -> k8s.core.v1.Namespace:
        """The node-agents namespace (hostPath allowed), created the first time a service needs it."""
        if self._agents_namespace is None:
            self._agents_namespace = k8s.core.v1.Namespace(
                "k8s-node-agents-namespace",
                metadata={
                    "name": self.agents_namespace_name,
                    "labels": {
                        PART_OF_LABEL: PART_OF,
                        ENVIRONMENT_LABEL: self.settings.environment,
                        # hostPath is forbidden by baseline and restricted; only per-node agents live here.
                        "pod-security.kubernetes.io/enforce": "privileged",
                        "pod-security.kubernetes.io/warn": "restricted",
                        "pod-security.kubernetes.io/audit": "restricted",
                    },
                    "annotations": dict(self.settings.annotations),
                },
                opts=self._opts(self),
            )
            ZoneNetworkPolicies("k8s-node-agents-network", ZoneNetworkArgs(
                namespace=self.agents_namespace_name, provider=self.provider,
                labels=ownership_labels(),
                annotations=dict(self.settings.annotations), agents_of=self.namespace_name,
            ), pulumi.ResourceOptions(parent=self, depends_on=[self._agents_namespace]))
        return self._agents_namespace

    def _placement(self, service: Service) -> tuple[str, pulumi.Resource]:
        if needs_node_access(service):
            return self.agents_namespace_name, self._agents()
        return self.namespace_name, self.namespace

    def _metadata(self, name: str, labels: dict[str, str], annotations: dict[str, str] | None = None,
                  namespace: str | None = None) -> JsonDict:
        meta: JsonDict = {"name": name, "namespace": namespace or self.namespace_name, "labels": labels}
        merged = {**self.settings.annotations, **(annotations or {})}
        if merged:
            meta["annotations"] = merged
        return meta

    def _files(self, name: str, service_or_task: Service | Task, labels: dict[str, str],
               parent: pulumi.Resource, namespace: tuple[str, pulumi.Resource] | None = None,
               ) -> tuple[str | None, list[pulumi.Resource]]:
        """The Secret (secret files, secret env, secret config files) and ConfigMap (plain files)."""
        ns_name, ns = namespace or (self.namespace_name, self.namespace)
        created: list[pulumi.Resource] = []
        # A task's init step shares the pod's Secret and ConfigMap; each container mounts only its items.
        containers = [service_or_task.container]
        if isinstance(service_or_task, Task) and service_or_task.init is not None:
            containers.append(service_or_task.init)
        secret_data: dict[str, Any] = {}
        plain: dict[str, Any] = {}
        for container in containers:
            secret_data.update({s.key: s.value for s in container.secret_files})
            secret_data.update({env_key(k): v for k, v in container.secret_env.items()})
            secret_data.update({key_for(f.path): f.content for f in container.config_files if f.secret})
            plain.update({key_for(f.path): f.content for f in container.config_files if not f.secret})
        secret_name = None
        if secret_data:
            secret_name = f"{name}-secrets"
            created.append(k8s.core.v1.Secret(
                f"{name}-secrets",
                metadata=self._metadata(secret_name, labels, namespace=ns_name),
                type="Opaque",
                string_data={k: pulumi.Output.secret(v) for k, v in secret_data.items()},
                opts=self._opts(parent, depends_on=[ns]),
            ))
        if plain:
            created.append(k8s.core.v1.ConfigMap(
                f"{name}-config",
                metadata=self._metadata(f"{name}-config", labels, namespace=ns_name),
                data=plain,
                opts=self._opts(parent, depends_on=[ns]),
            ))
        return secret_name, created

    def _pod_template(self, name: str, service_or_task: Service | Task, labels: dict[str, str],
                      secret_name: str | None, ports: list[JsonDict], extra: JsonDict) -> JsonDict:
        container = service_or_task.container
        probes = service_or_task.probes if isinstance(service_or_task, Service) else None
        mounts: list[JsonDict] = (
            [{"name": v.name, "mount_path": v.mount_path} for v in service_or_task.volumes]
            if isinstance(service_or_task, Service)
            else []
        )
        init_containers, init_volumes, shared = self._init_step(name, service_or_task, secret_name)
        certificate = service_or_task.certificate if isinstance(service_or_task, Service) else None
        if certificate is not None:
            mounts.append({"name": "tls", "mount_path": TLS_DIR, "read_only": True})
        main, volumes = container_spec(name, container, secret_name, ports, probes or Probes(),
                                       mounts + shared)
        if certificate is not None:
            volumes.append({"name": "tls", "secret": {
                "secret_name": pki.secret_name(certificate), "default_mode": 0o440,
                "items": [{"key": key, "path": key} for key in SECRET_KEYS]}})
        volumes += init_volumes
        annotations: dict[str, Text] = (
            pod_annotations(service_or_task) if isinstance(service_or_task, Service) else {})
        init_files = service_or_task.init.config_files if isinstance(service_or_task, Task) and \
            service_or_task.init else ()
        checksum = config_hash(container.config_files + init_files)
        if checksum:
            annotations["dreamscape.io/config-hash"] = checksum
        return {
            "metadata": {"labels": labels, **({"annotations": annotations} if annotations else {})},
            "spec": {
                "automount_service_account_token": False,
                "enable_service_links": False,
                "security_context": pod_security(container),
                **({"init_containers": init_containers} if init_containers else {}),
                "containers": [main],
                "volumes": volumes,
                **extra,
            },
        }

    @staticmethod
    def _init_step(name: str, service_or_task: Service | Task, secret_name: str | None,
                   ) -> tuple[list[JsonDict], list[JsonDict], list[JsonDict]]:
        """A task's init step: its initContainer, the pod volumes it adds (its own renamed `init-*`, plus
        the shared emptyDir), and the shared mount for the main container."""
        if not isinstance(service_or_task, Task) or service_or_task.init is None:
            return [], [], []
        shared: list[JsonDict] = []
        volumes: list[JsonDict] = []
        if service_or_task.shared_dir is not None:
            shared = [{"name": "shared", "mount_path": service_or_task.shared_dir}]
            volumes.append({"name": "shared", "empty_dir": {}})
        init, own = container_spec(f"{name}-init", service_or_task.init, secret_name, [], Probes(), shared,
                                   config_map_name=f"{name}-config")
        return [init], prefixed_volumes("init", init, own) + volumes, shared

    def _api_access(self, service: Service, labels: dict[str, str], parent: pulumi.Resource,
                    namespace: tuple[str, pulumi.Resource]) -> JsonDict:
        """A ServiceAccount bound to exactly the rules the service declares: its namespace-scoped rules in a
        Role, its cluster-scoped rules (`ApiScope.CLUSTER`) in a ClusterRole.

        The Role always grants access to the environment's namespace, wherever the service runs. The
        ClusterRole and its binding are named after the namespace too (`access.cluster_grant_name`): review
        stacks share a cluster, and each must hold its own."""
        if not service.api_rules:
            return {}
        ns_name, ns = namespace
        account = k8s.core.v1.ServiceAccount(
            f"{service.name}-account",
            metadata=self._metadata(service.name, labels, namespace=ns_name),
            automount_service_account_token=False,
            opts=self._opts(parent, depends_on=[ns]),
        )
        subjects = [{"kind": "ServiceAccount", "name": service.name, "namespace": ns_name}]
        namespaced = access_grants.policy_rules(service.api_rules, ApiScope.NAMESPACE)
        if namespaced:
            role = k8s.rbac.v1.Role(
                f"{service.name}-role",
                metadata=self._metadata(service.name, labels),
                rules=namespaced,
                opts=self._opts(parent, depends_on=[self.namespace]),
            )
            k8s.rbac.v1.RoleBinding(
                f"{service.name}-binding",
                metadata=self._metadata(service.name, labels),
                role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": service.name},
                subjects=subjects,
                opts=self._opts(parent, depends_on=[account, role]),
            )
        cluster_wide = access_grants.policy_rules(service.api_rules, ApiScope.CLUSTER)
        if cluster_wide:
            grant = access_grants.cluster_grant_name(self.namespace_name, service.name)
            metadata = {key: value for key, value in self._metadata(grant, labels).items() if key != "namespace"}
            cluster_role = k8s.rbac.v1.ClusterRole(
                f"{service.name}-cluster-role",
                metadata=metadata,
                rules=cluster_wide,
                opts=self._opts(parent),
            )
            k8s.rbac.v1.ClusterRoleBinding(
                f"{service.name}-cluster-binding",
                metadata=metadata,
                role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": grant},
                subjects=subjects,
                opts=self._opts(parent, depends_on=[account, cluster_role]),
            )
        return {"service_account_name": service.name, "automount_service_account_token": True}

    # -- Target protocol -----------------------------------------------------------------------
    def deploy_service(self, service: Service, parent: pulumi.Resource,
                       after: Sequence[Deployed] = ()) -> Deployed:
        """`after` services are not awaited: pods retry until their dependencies answer, and probes gate
        traffic. Tasks in `after` gate the rollout (migrations): the workload waits for their Job."""
        gates = [resource for deployed in after if isinstance(deployed.service, Task) for resource in deployed.ready]
        if service.database is not None:
            return self._deploy_database(service, service.database, parent, gates)
        env = self.settings.environment
        labels = workload_labels(service.name, service.component, env, service.zone, service.reaches,
                                 dict(service.labels))
        if service.api_rules:
            labels[API_ACCESS_LABEL] = "true"
        if service.redundancy is not None:
            labels.update(workloads.group_selector(service.redundancy, env))
        # Members of one redundancy group are created in order, so the scheduler has placed the earlier
        # set before the pods that must avoid it arrive (placing pairs in any order can dead-end).
        placed_first = [resource for deployed in after if same_redundancy_group(service, deployed.service)
                        for resource in deployed.ready]
        selector = selector_labels(service.name, env)
        placement = self._placement(service)
        ns_name, ns = placement

        def meta(name: str) -> JsonDict:
            return self._metadata(name, labels, namespace=ns_name)

        secret_name, files = self._files(service.name, service, labels, parent, placement)
        if service.certificate is not None:
            files.append(self._certificate(service.certificate, labels, parent))
        ports = [{"name": p.name, "container_port": p.number, "protocol": p.protocol} for p in service.ports]
        extra: JsonDict = workloads.placement_spec(service, selector, env)
        if ns_name != self.namespace_name:
            # Plain service names (`loki`) resolve in the environment's namespace too.
            extra["dns_config"] = {"searches": [f"{self.namespace_name}.svc.{CLUSTER_DOMAIN}"]}
        template = self._pod_template(service.name, service, labels, secret_name, ports,
                                      {**extra, **self._api_access(service, labels, parent, placement),
                                       **access_grants.pull_secrets(self, ns_name)})
        depends = [ns, *files, *gates, *placed_first]
        stateful = service.kind is WorkloadKind.STATEFUL
        workload: pulumi.Resource
        if stateful:
            workload = k8s.apps.v1.StatefulSet(
                service.name,
                metadata=meta(service.name),
                spec=workloads.statefulset_spec(service, selector, template, self._config.storage_class),
                opts=self._opts(parent, depends_on=depends, protect=self.settings.protect),
            )
        elif service.kind is WorkloadKind.PER_NODE:
            workload = k8s.apps.v1.DaemonSet(
                service.name,
                metadata=meta(service.name),
                spec=workloads.daemonset_spec(selector, template),
                opts=self._opts(parent, depends_on=depends),
            )
        else:
            workload = k8s.apps.v1.Deployment(
                service.name,
                metadata=meta(service.name),
                spec=workloads.deployment_spec(service, selector, template),
                opts=self._opts(parent, depends_on=depends),
            )
        if service.ports:
            k8s.core.v1.Service(
                f"{service.name}-service",
                metadata=self._metadata(service.name, labels, service_annotations(service), namespace=ns_name),
                spec=workloads.service_spec(service, selector),
                opts=self._opts(parent, depends_on=[ns]),
            )
        if stateful:
            k8s.core.v1.Service(
                f"{service.name}-peers",
                metadata=meta(peers_name(service.name)),
                spec=workloads.peers_service_spec(service, selector),
                opts=self._opts(parent, depends_on=[ns]),
            )
        scaler = scaling.scaled_object_spec(service, self._qualify)
        if scaler is not None:
            # KEDA owns the HPA it creates for this Deployment; none of ours competes with it.
            k8s.apiextensions.CustomResource(
                f"{service.name}-scaler",
                api_version=scaling.API_VERSION,
                kind=scaling.KIND,
                metadata=meta(service.name),
                spec=scaler,
                # After KEDA's CRD where this stack installs it (components/targets/kubernetes/operators.py).
                opts=self.custom_resource_opts(parent, scaling.API_VERSION, scaling.KIND, depends_on=[workload]),
            )
            for host, port in scaling.scaler_sources(service):
                policy = from_namespace_policy(f"autoscaler-{service.name}-{host}", operators.KEDA.namespace,
                                               selector_labels(host, env), [port])
                k8s.networking.v1.NetworkPolicy(
                    f"{service.name}-{policy['name']}",
                    metadata=meta(policy["name"]),
                    spec=policy["spec"],
                    opts=self._opts(parent, depends_on=[ns]),
                )
        if service.redundancy is not None:
            self._group_budget(service.redundancy, labels, parent, ns_name, ns)
        elif service.replicas > 1 and service.kind is not WorkloadKind.PER_NODE:
            k8s.policy.v1.PodDisruptionBudget(
                f"{service.name}-pdb",
                metadata=meta(service.name),
                spec=workloads.pdb_spec(selector),
                opts=self._opts(parent, depends_on=[ns]),
            )
        for policy in service_policies(service, service.name, selector):
            k8s.networking.v1.NetworkPolicy(
                f"{service.name}-{policy['name']}",
                metadata=meta(policy["name"]),
                spec=policy["spec"],
                opts=self._opts(parent, depends_on=[ns]),
            )
        if service.canary is not None:
            self._deploy_canary(service, labels, template, parent, placement, [ns, *files, *gates])
        return Deployed(service=service, ready=(workload,))

    def _deploy_canary(self, service: Service, stable_labels: dict[str, str], stable_template: JsonDict,
                       parent: pulumi.Resource, placement: tuple[str, pulumi.Resource],
                       depends: list[pulumi.Resource]) -> None:
        """The canary's Deployment, Service and NetworkPolicies beside the stable (kubernetes/canary.py);
        the edge splits the service's routes between the two."""
        if service.canary is None or service.kind is not WorkloadKind.STATELESS:
            raise ValueError(f"{service.name}: only a stateless service with a canary has one to deploy")
        env, (ns_name, ns) = self.settings.environment, placement
        name = canary_name(service.name)
        labels = canary.canary_labels(stable_labels, service, env)
        selector = canary.canary_selector(service.name, env)
        runs = canary.canary_service(service)
        template = canary.canary_template(stable_template, labels, service.canary.image)
        k8s.apps.v1.Deployment(
            name,
            metadata=self._metadata(name, labels, namespace=ns_name),
            spec=workloads.deployment_spec(runs, selector, template),
            opts=self._opts(parent, depends_on=depends),
        )
        if service.ports:
            k8s.core.v1.Service(
                f"{name}-service",
                metadata=self._metadata(name, labels, service_annotations(service), namespace=ns_name),
                spec=workloads.service_spec(runs, selector),
                opts=self._opts(parent, depends_on=[ns]),
            )
        for policy in service_policies(service, name, selector):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy['name']}",
                metadata=self._metadata(policy["name"], labels, namespace=ns_name),
                spec=policy["spec"],
                opts=self._opts(parent, depends_on=[ns]),
            )

    def _deploy_database(self, service: Service, database: Database, parent: pulumi.Resource,
                         gates: list[pulumi.Resource]) -> Deployed:
        """A CloudNativePG Cluster (kubernetes/cnpg.py): the operator runs the members, their volumes and the
        `-rw`/`-ro` Services; the program declares the cluster, its secrets, its archive and its policies."""
        name, env = service.name, self.settings.environment
        labels = workload_labels(name, service.component, env, service.zone, service.reaches, dict(service.labels))
        # Pods are CloudNativePG's (its own app.kubernetes.io labels): they inherit the zone labels that the
        # NetworkPolicies select on, and members talk to the API server (leader election, status).
        inherited = {key: value for key, value in labels.items() if key.startswith("dreamscape.io/")}
        inherited[API_ACCESS_LABEL] = "true"

        def meta(resource_name: str) -> JsonDict:
            return self._metadata(resource_name, labels)

        def basic_auth(resource_name: str, username: str, password: pulumi.Output[str]) -> pulumi.Resource:
            data: dict[str, Any] = {"username": username, "password": password}
            return k8s.core.v1.Secret(
                resource_name, metadata=meta(resource_name), type="kubernetes.io/basic-auth",
                string_data={**data, "password": pulumi.Output.secret(data["password"])},
                opts=self._opts(parent, depends_on=[self.namespace]))

        secrets = [basic_auth(cnpg.app_secret(name), database.owner, database.owner_password),
                   basic_auth(cnpg.superuser_secret(name), cnpg.SUPERUSER, database.superuser_password)]
        archive = database.archive
        if archive is not None:
            credentials: dict[str, Any] = {"ACCESS_KEY_ID": archive.access_key_id,
                                           "ACCESS_SECRET_KEY": archive.secret_access_key}
            secrets.append(k8s.core.v1.Secret(
                cnpg.store_secret(name), metadata=meta(cnpg.store_secret(name)), type="Opaque",
                string_data={**{k: pulumi.Output.secret(v) for k, v in credentials.items()},
                             "REGION": archive.region},
                opts=self._opts(parent, depends_on=[self.namespace])))
            secrets.append(k8s.apiextensions.CustomResource(
                f"{name}-object-store", api_version=cnpg.BARMAN_API, kind="ObjectStore",
                metadata=meta(cnpg.store_name(name)), spec=cnpg.object_store_spec(name, archive),
                opts=self.custom_resource_opts(parent, cnpg.BARMAN_API, "ObjectStore",
                                               depends_on=[self.namespace])))
        if service.certificate is not None:
            secrets.append(self._certificate(service.certificate, labels, parent, {cnpg.RELOAD_LABEL: ""}))
        storage_class = self._config.storage_class
        cluster = k8s.apiextensions.CustomResource(
            f"{name}-cluster", api_version=cnpg.API, kind="Cluster", metadata=meta(name),
            spec=cnpg.cluster_spec(service, database, storage_class, inherited, dict(self.settings.annotations)),
            opts=self.custom_resource_opts(parent, cnpg.API, "Cluster", depends_on=[*secrets, *gates],
                                           protect=self.settings.protect),
        )
        if archive is not None:
            k8s.apiextensions.CustomResource(
                f"{name}-scheduled-backup", api_version=cnpg.API, kind="ScheduledBackup", metadata=meta(name),
                spec=cnpg.scheduled_backup_spec(name, archive),
                opts=self.custom_resource_opts(parent, cnpg.API, "ScheduledBackup", depends_on=[cluster]))
        if archive is not None and database.verification is not None:
            RestoreVerify(database.verification.job, RestoreVerifyArgs(
                service=service, database=database, verification=database.verification,
                storage_class=storage_class, namespace=self.namespace_name, environment=env,
                annotations=dict(self.settings.annotations), provider=self.provider,
                depends_on=[self.namespace, cluster]), pulumi.ResourceOptions(parent=parent))
        if archive is not None and database.recovery is not None:
            restored = f"{name}{cnpg.PITR_SUFFIX}"
            k8s.apiextensions.CustomResource(
                f"{restored}-cluster", api_version=cnpg.API, kind="Cluster", metadata=meta(restored),
                spec=cnpg.recovery_cluster_spec(service, database, database.recovery, archive, storage_class,
                                                inherited),
                opts=self.custom_resource_opts(parent, cnpg.API, "Cluster", depends_on=secrets))
        # The apps reach the members' client ports; the scraper reaches each member's declared metrics port
        # (Prometheus discovers every member there), and nothing else of it.
        members = {cnpg.CLUSTER_LABEL: name}
        client_ports = [p.number for p in service.client_ports]
        metrics_ports = [p.number for p in service.metrics_ports]
        for policy in [*cnpg.network_policies(name, archive),
                       *([clients_policy(name, service.zone, members, client_ports)] if client_ports else []),
                       *([metrics_policy(name, members, metrics_ports)] if metrics_ports else [])]:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy['name']}" if not policy["name"].startswith(name) else policy["name"],
                metadata=meta(policy["name"]), spec=policy["spec"],
                opts=self._opts(parent, depends_on=[self.namespace]))
        return Deployed(service=service, ready=(cluster,))

    def _group_budget(self, redundancy: Redundancy, labels: dict[str, str], parent: pulumi.Resource,
                      ns_name: str, ns: pulumi.Resource) -> None:
        """One PodDisruptionBudget over every service of a redundancy group, registered with the first:
        a budget per service would let a drain take one member of each, such as both halves of a shard."""
        if redundancy.group in self._budgeted_groups:
            return
        self._budgeted_groups.add(redundancy.group)
        k8s.policy.v1.PodDisruptionBudget(
            f"{redundancy.group}-pdb",
            metadata=self._metadata(redundancy.group, labels, namespace=ns_name),
            spec=workloads.pdb_spec(workloads.group_selector(redundancy, self.settings.environment),
                                    redundancy.max_unavailable),
            opts=self._opts(parent, depends_on=[ns]),
        )

    def run_task(self, task: Task, parent: pulumi.Resource, after: Sequence[Deployed]) -> pulumi.Resource:
        """A Job (Pulumi waits for it; its template is immutable, so changes replace it), or a CronJob."""
        env = self.settings.environment
        labels = workload_labels(task.name, task.component, env, task.zone, task.reaches)
        secret_name, files = self._files(task.name, task, labels, parent)
        template = self._pod_template(task.name, task, labels, secret_name, [],
                                      {"restart_policy": "OnFailure",
                                       **access_grants.pull_secrets(self, self.namespace_name)})
        template["metadata"].setdefault("annotations", {})["dreamscape.io/run-id"] = task.run_id
        if task.schedule is not None:
            template["spec"]["restart_policy"] = "Never"
            return k8s.batch.v1.CronJob(
                task.name,
                metadata=self._metadata(task.name, labels),
                spec=workloads.cronjob_spec(task, template),
                opts=self._opts(parent, depends_on=[self.namespace, *files]),
            )
        return k8s.batch.v1.Job(
            task.name,
            metadata=self._metadata(task.name, labels),
            spec=workloads.job_spec(task, template),
            opts=self._opts(
                parent,
                depends_on=[self.namespace, *files, *(r for d in after for r in d.ready)],
                delete_before_replace=True,
            ),
        )


    def expose(self, routes: Sequence[Route], parent: pulumi.Resource) -> dict[str, str]:
        """Ingresses behind Traefik with TLS, redirect and middlewares (see kubernetes/edge.py)."""
        edge = Edge("edge", EdgeArgs(
            routes=tuple(routes), namespace=self.namespace_name, config=self._config.edge,
            labels={PART_OF_LABEL: PART_OF, COMPONENT_LABEL: "edge", ENVIRONMENT_LABEL: self.settings.environment},
            annotations=dict(self.settings.annotations), provider=self.provider,
            namespace_resource=self.namespace,
            certificate_crd=self.crds.get(("cert-manager.io", "Certificate")),
        ), pulumi.ResourceOptions(parent=parent))
        env = self.settings.environment
        # cert-manager answers each route's HTTP-01 challenge from a solver pod in this namespace.
        policies = [edge_policy(route.name, selector_labels(route.service, env), route.port) for route in routes]
        policies += [acme_solver_policy()] if routes else []
        # Traefik reaches a canaried route's canary pods on the same port.
        policies += [edge_policy(canary_name(route.name), canary.canary_selector(route.service, env), route.port)
                     for route in routes if route.canary is not None]
        for policy in policies:
            k8s.networking.v1.NetworkPolicy(
                f"k8s-network-{policy['name']}",
                metadata=self._metadata(policy["name"], {PART_OF_LABEL: PART_OF,
                                                         COMPONENT_LABEL: "edge"}),
                spec=policy["spec"],
                opts=self._opts(parent, depends_on=[self.namespace]),
            )
        return edge.urls

    def grant_access(self, access: Access, parent: pulumi.Resource) -> None:
        access_grants.grant(self, access, parent)


def create(
    config: StackConfig, settings: TargetSettings, opts: pulumi.ResourceOptions | None = None
) -> KubernetesPlatform:
    return KubernetesPlatform("k8s", KubernetesTargetArgs(settings=settings, kubernetes=config.kubernetes), opts)
