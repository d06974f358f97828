"""Pure builders of the Kubernetes objects a `spec.Service` or `spec.Task` becomes.

Each function returns the object's `spec` as plain data, so tests can read a workload without a
runtime; `platform.py` only registers them (metadata, options, dependencies).
"""

from __future__ import annotations

from components.spec import Redundancy, Service, Task, peers_name
from components.targets.kubernetes.pod import JsonDict
from components.targets.labels import INSTANCE_LABEL

HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"
"""One node: the machine a member must not share."""
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
"""Set by the StatefulSet controller on each pod to its ordinal (GA in Kubernetes 1.32)."""
GROUP_LABEL = "dreamscape.io/redundancy-group"
"""On the pods of every service of one redundancy group: what the group's budget and pairing select."""


def _ports(service: Service) -> list[JsonDict]:
    return [{"name": p.name, "port": p.number, "target_port": p.name, "protocol": p.protocol} for p in service.ports]


def statefulset_spec(service: Service, selector: dict[str, str], template: JsonDict, storage_class: str) -> JsonDict:
    return {
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
                    "storage_class_name": storage_class,
                    "resources": {"requests": {"storage": v.size}},
                },
            }
            for v in service.volumes
        ],
    }


def daemonset_spec(selector: dict[str, str], template: JsonDict) -> JsonDict:
    return {
        "selector": {"match_labels": selector},
        "update_strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 1}},
        "template": template,
    }


def deployment_spec(service: Service, selector: dict[str, str], template: JsonDict) -> JsonDict:
    """An autoscaled Deployment leaves its replica count to the autoscaler (KEDA's HPA): setting it here
    would reset the scaled-out Deployment to the minimum on every `pulumi up`."""
    replicas: JsonDict = {} if service.autoscale is not None else {"replicas": service.replicas}
    return {
        **replicas,
        "selector": {"match_labels": selector},
        # Never drop below the desired capacity during a rollout.
        "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
        "template": template,
    }


def service_spec(service: Service, selector: dict[str, str]) -> JsonDict:
    return {"type": "ClusterIP", "selector": selector, "ports": _ports(service)}


def peers_service_spec(service: Service, selector: dict[str, str]) -> JsonDict:
    return {
        "cluster_ip": "None",
        # Members must resolve each other before they are ready (cluster bootstrap).
        "publish_not_ready_addresses": True,
        "selector": selector,
        "ports": _ports(service),
    }


def group_selector(redundancy: Redundancy, environment: str) -> dict[str, str]:
    """The pods of every service in the redundancy group, in this environment."""
    return {GROUP_LABEL: redundancy.group, INSTANCE_LABEL: environment}


def placement_spec(service: Service, selector: dict[str, str], environment: str) -> JsonDict:
    """The pod spec's scheduling rules for a service's members.

    Without a declared redundancy, members only prefer distinct nodes (a spread the scheduler may break
    when nodes are short). With one, keeping members apart is *required*: a pod that would share a node
    with a member it must avoid stays Pending rather than silently putting two copies on one machine.
    Ordinal pairs use `matchLabelKeys` (GA in Kubernetes 1.33): the incoming pod's own ordinal is merged
    into the selector, so member *i* avoids exactly the other services' member *i*.
    """
    prefer_spread: JsonDict = {"topology_spread_constraints": [{
        "max_skew": 1,
        "topology_key": HOSTNAME_TOPOLOGY,
        "when_unsatisfiable": "ScheduleAnyway",
        "label_selector": {"match_labels": selector},
    }]}
    redundancy = service.redundancy
    if redundancy is None:
        return prefer_spread if service.replicas > 1 else {}
    terms: list[JsonDict] = []
    if redundancy.members_apart:
        terms.append({"label_selector": {"match_labels": selector}, "topology_key": HOSTNAME_TOPOLOGY})
    if redundancy.ordinal_pairs:
        terms.append({
            "label_selector": {"match_labels": group_selector(redundancy, environment)},
            # No snake_case name for this field in pulumi-kubernetes' key table: the wire name passes as is.
            "matchLabelKeys": [POD_INDEX_LABEL],
            "topology_key": HOSTNAME_TOPOLOGY,
        })
    placement: JsonDict = {} if redundancy.members_apart or service.replicas == 1 else dict(prefer_spread)
    if terms:
        placement["affinity"] = {"pod_anti_affinity": {"required_during_scheduling_ignored_during_execution": terms}}
    return placement


def pdb_spec(selector: dict[str, str], max_unavailable: int = 1) -> JsonDict:
    """A node drain evicts at most `max_unavailable` of the selected pods at a time."""
    return {"max_unavailable": max_unavailable, "selector": {"match_labels": selector}}


def cronjob_spec(task: Task, template: JsonDict) -> JsonDict:
    return {
        "schedule": task.schedule,
        "concurrency_policy": "Forbid",
        "successful_jobs_history_limit": 3,
        "failed_jobs_history_limit": 3,
        "job_template": {"spec": {"backoff_limit": 2, "template": template}},
    }


def job_spec(task: Task, template: JsonDict) -> JsonDict:
    """A gate (a migration) fails fast: its failure stops the rollout and names the Job; other tasks
    retry while what they set up is still starting."""
    return {"backoff_limit": 2 if task.gates else 10, "template": template}
