"""The Kubernetes target: k3s for prod and review stacks.

Realises a `spec.Service` as a Deployment (stateless) or a StatefulSet with volumeClaimTemplates
(stateful), a ClusterIP Service `<name>`, a headless Service `<name>-peers` for member identity,
a Secret and a ConfigMap for its files, and a PodDisruptionBudget when it has more than one replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import KubernetesConfig, StackConfig
from components.spec import Probes, Service, Task, WorkloadKind, peers_name
from components.targets.base import Deployed, TargetSettings
from components.targets.kubernetes.network import ZoneNetworkArgs, ZoneNetworkPolicies
from components.targets.kubernetes.pod import (
    JsonDict,
    config_hash,
    container_spec,
    env_key,
    key_for,
    pod_security,
)
from components.targets.labels import API_ACCESS_LABEL, selector_labels, workload_labels


@dataclass(frozen=True)
class KubernetesTargetArgs:
    settings: TargetSettings
    kubernetes: KubernetesConfig


def namespace_name(settings: TargetSettings, config: KubernetesConfig) -> str:
    return config.namespace or f"dreamscape-{settings.environment}"


class KubernetesPlatform(pulumi.ComponentResource):
    """Provider and namespace of one environment; deploys services into them."""

    def __init__(self, name: str, args: KubernetesTargetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:kubernetes:Platform", name, None, opts)
        self.settings = args.settings
        self._config = args.kubernetes
        self.namespace_name = namespace_name(args.settings, args.kubernetes)
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=args.kubernetes.kubeconfig,
            context=args.kubernetes.context,
            # Review clusters may vanish before their stacks do; destroy must still succeed.
            delete_unreachable=not args.settings.protect,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": self.namespace_name,
                "labels": {
                    "app.kubernetes.io/part-of": "dreamscape",
                    "dreamscape.io/environment": args.settings.environment,
                    # Every workload here meets the restricted Pod Security Standard; enforce it.
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                },
                "annotations": dict(args.settings.annotations),
            },
            opts=self._opts(self, protect=args.settings.protect),
        )
        # Default deny; traffic only as the zone labels declare (components/targets/kubernetes/network.py).
        self.network = ZoneNetworkPolicies(f"{name}-network", ZoneNetworkArgs(
            namespace=self.namespace_name, provider=self.provider,
            labels={"app.kubernetes.io/part-of": "dreamscape", "app.kubernetes.io/managed-by": "pulumi"},
            annotations=dict(args.settings.annotations),
        ), pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]))
        self.register_outputs({"namespace": self.namespace.metadata["name"]})

    def _opts(self, parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **kwargs)

    def _metadata(self, name: str, labels: dict[str, str], annotations: dict[str, str] | None = None) -> JsonDict:
        meta: JsonDict = {"name": name, "namespace": self.namespace_name, "labels": labels}
        merged = {**self.settings.annotations, **(annotations or {})}
        if merged:
            meta["annotations"] = merged
        return meta

    def _files(self, name: str, service_or_task: Service | Task, labels: dict[str, str],
               parent: pulumi.Resource) -> tuple[str | None, list[pulumi.Resource]]:
        """The Secret (secret files, secret env, secret config files) and ConfigMap (plain files)."""
        container = service_or_task.container
        created: list[pulumi.Resource] = []
        secret_data: dict[str, Any] = {s.key: s.value for s in container.secret_files}
        secret_data.update({env_key(k): v for k, v in container.secret_env.items()})
        secret_data.update({key_for(f.path): f.content for f in container.config_files if f.secret})
        secret_name = None
        if secret_data:
            secret_name = f"{name}-secrets"
            created.append(k8s.core.v1.Secret(
                f"{name}-secrets",
                metadata=self._metadata(secret_name, labels),
                type="Opaque",
                string_data={k: pulumi.Output.secret(v) for k, v in secret_data.items()},
                opts=self._opts(parent, depends_on=[self.namespace]),
            ))
        plain = {key_for(f.path): f.content for f in container.config_files if not f.secret}
        if plain:
            created.append(k8s.core.v1.ConfigMap(
                f"{name}-config",
                metadata=self._metadata(f"{name}-config", labels),
                data=plain,
                opts=self._opts(parent, depends_on=[self.namespace]),
            ))
        return secret_name, created

    def _pod_template(self, name: str, service_or_task: Service | Task, labels: dict[str, str],
                      secret_name: str | None, ports: list[JsonDict], extra: JsonDict) -> JsonDict:
        container = service_or_task.container
        probes = service_or_task.probes if isinstance(service_or_task, Service) else None
        mounts = (
            [{"name": v.name, "mount_path": v.mount_path} for v in service_or_task.volumes]
            if isinstance(service_or_task, Service)
            else []
        )
        main, volumes = container_spec(name, container, secret_name, ports, probes or Probes(), mounts)
        annotations: dict[str, str] = dict(service_or_task.annotations) if isinstance(service_or_task, Service) else {}
        checksum = config_hash(container.config_files)
        if checksum:
            annotations["dreamscape.io/config-hash"] = checksum
        return {
            "metadata": {"labels": labels, **({"annotations": annotations} if annotations else {})},
            "spec": {
                "automount_service_account_token": False,
                "enable_service_links": False,
                "security_context": pod_security(container),
                "containers": [main],
                "volumes": volumes,
                **extra,
            },
        }

    def _api_access(self, service: Service, labels: dict[str, str], parent: pulumi.Resource) -> JsonDict:
        """A ServiceAccount bound to a namespace Role with exactly the rules the service declares."""
        if not service.api_rules:
            return {}
        account = k8s.core.v1.ServiceAccount(
            f"{service.name}-account",
            metadata=self._metadata(service.name, labels),
            automount_service_account_token=False,
            opts=self._opts(parent, depends_on=[self.namespace]),
        )
        role = k8s.rbac.v1.Role(
            f"{service.name}-role",
            metadata=self._metadata(service.name, labels),
            rules=[{"api_groups": list(r.api_groups), "resources": list(r.resources), "verbs": list(r.verbs)}
                   for r in service.api_rules],
            opts=self._opts(parent, depends_on=[self.namespace]),
        )
        k8s.rbac.v1.RoleBinding(
            f"{service.name}-binding",
            metadata=self._metadata(service.name, labels),
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": service.name},
            subjects=[{"kind": "ServiceAccount", "name": service.name, "namespace": self.namespace_name}],
            opts=self._opts(parent, depends_on=[account, role]),
        )
        return {"service_account_name": service.name, "automount_service_account_token": True}

    # -- Target protocol -----------------------------------------------------------------------
    def deploy_service(self, service: Service, parent: pulumi.Resource) -> Deployed:
        env = self.settings.environment
        labels = workload_labels(service.name, service.component, env, service.zone, service.reaches,
                                 dict(service.labels))
        if service.api_rules:
            labels[API_ACCESS_LABEL] = "true"
        selector = selector_labels(service.name, env)
        secret_name, files = self._files(service.name, service, labels, parent)
        ports = [{"name": p.name, "container_port": p.number, "protocol": p.protocol} for p in service.ports]
        spread: JsonDict = {}
        if service.replicas > 1:
            spread = {"topology_spread_constraints": [{
                "max_skew": 1,
                "topology_key": "kubernetes.io/hostname",
                "when_unsatisfiable": "ScheduleAnyway",
                "label_selector": {"match_labels": selector},
            }]}
        template = self._pod_template(service.name, service, labels, secret_name, ports,
                                      {**spread, **self._api_access(service, labels, parent)})
        depends = [self.namespace, *files]
        stateful = service.kind is WorkloadKind.STATEFUL
        workload: pulumi.Resource
        if stateful:
            workload = k8s.apps.v1.StatefulSet(
                service.name,
                metadata=self._metadata(service.name, labels),
                spec={
                    "service_name": peers_name(service.name),
                    "replicas": service.replicas,
                    # Cluster members must all start to form a quorum; ordered start would deadlock.
                    "pod_management_policy": "Parallel",
                    "selector": {"match_labels": selector},
                    "update_strategy": {"type": "RollingUpdate"},
                    "persistent_volume_claim_retention_policy": {"when_deleted": "Retain", "when_scaled": "Retain"},
                    "template": template,
                    "volume_claim_templates": [
                        {
                            "metadata": {"name": v.name, "labels": selector},
                            "spec": {
                                "access_modes": ["ReadWriteOnce"],
                                "storage_class_name": self._config.storage_class,
                                "resources": {"requests": {"storage": v.size}},
                            },
                        }
                        for v in service.volumes
                    ],
                },
                opts=self._opts(parent, depends_on=depends, protect=self.settings.protect),
            )
        elif service.kind is WorkloadKind.PER_NODE:
            workload = k8s.apps.v1.DaemonSet(
                service.name,
                metadata=self._metadata(service.name, labels),
                spec={
                    "selector": {"match_labels": selector},
                    "update_strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 1}},
                    "template": template,
                },
                opts=self._opts(parent, depends_on=depends),
            )
        else:
            workload = k8s.apps.v1.Deployment(
                service.name,
                metadata=self._metadata(service.name, labels),
                spec={
                    "replicas": service.replicas,
                    "selector": {"match_labels": selector},
                    # Never drop below the desired capacity during a rollout.
                    "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
                    "template": template,
                },
                opts=self._opts(parent, depends_on=depends),
            )
        if service.ports:
            k8s.core.v1.Service(
                f"{service.name}-service",
                metadata=self._metadata(service.name, labels),
                spec={
                    "type": "ClusterIP",
                    "selector": selector,
                    "ports": [{"name": p.name, "port": p.number, "target_port": p.name, "protocol": p.protocol}
                              for p in service.ports],
                },
                opts=self._opts(parent, depends_on=[self.namespace]),
            )
        if stateful:
            k8s.core.v1.Service(
                f"{service.name}-peers",
                metadata=self._metadata(peers_name(service.name), labels),
                spec={
                    "cluster_ip": "None",
                    # Members must resolve each other before they are ready (cluster bootstrap).
                    "publish_not_ready_addresses": True,
                    "selector": selector,
                    "ports": [{"name": p.name, "port": p.number, "target_port": p.name, "protocol": p.protocol}
                              for p in service.ports],
                },
                opts=self._opts(parent, depends_on=[self.namespace]),
            )
        if service.autoscale is not None:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{service.name}-hpa",
                metadata=self._metadata(service.name, labels),
                spec={
                    "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": service.name},
                    "min_replicas": service.autoscale.min_replicas,
                    "max_replicas": service.autoscale.max_replicas,
                    "metrics": [{"type": "Resource", "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "average_utilization": service.autoscale.cpu_utilization},
                    }}],
                },
                opts=self._opts(parent, depends_on=[workload]),
            )
        if service.replicas > 1 and service.kind is not WorkloadKind.PER_NODE:
            k8s.policy.v1.PodDisruptionBudget(
                f"{service.name}-pdb",
                metadata=self._metadata(service.name, labels),
                spec={"max_unavailable": 1, "selector": {"match_labels": selector}},
                opts=self._opts(parent, depends_on=[self.namespace]),
            )
        return Deployed(service=service, ready=(workload,))

    def run_task(self, task: Task, parent: pulumi.Resource, after: Sequence[Deployed]) -> pulumi.Resource:
        """A Job (Pulumi waits for it; its template is immutable, so changes replace it), or a CronJob."""
        env = self.settings.environment
        labels = workload_labels(task.name, task.component, env, task.zone, task.reaches)
        secret_name, files = self._files(task.name, task, labels, parent)
        template = self._pod_template(task.name, task, labels, secret_name, [], {"restart_policy": "OnFailure"})
        template["metadata"].setdefault("annotations", {})["dreamscape.io/run-id"] = task.run_id
        if task.schedule is not None:
            template["spec"]["restart_policy"] = "Never"
            return k8s.batch.v1.CronJob(
                task.name,
                metadata=self._metadata(task.name, labels),
                spec={
                    "schedule": task.schedule,
                    "concurrency_policy": "Forbid",
                    "successful_jobs_history_limit": 3,
                    "failed_jobs_history_limit": 3,
                    "job_template": {"spec": {"backoff_limit": 2, "template": template}},
                },
                opts=self._opts(parent, depends_on=[self.namespace, *files]),
            )
        return k8s.batch.v1.Job(
            task.name,
            metadata=self._metadata(task.name, labels),
            spec={"backoff_limit": 10, "template": template},
            opts=self._opts(
                parent,
                depends_on=[self.namespace, *files, *(r for d in after for r in d.ready)],
                delete_before_replace=True,
            ),
        )


def create(
    config: StackConfig, settings: TargetSettings, opts: pulumi.ResourceOptions | None = None
) -> KubernetesPlatform:
    return KubernetesPlatform("k8s", KubernetesTargetArgs(settings=settings, kubernetes=config.kubernetes), opts)
