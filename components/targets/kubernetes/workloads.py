"""Pure builders of the Kubernetes objects a `spec.Service` or `spec.Task` becomes.

Each function returns the object's `spec` as plain data, so tests can read a workload without a
runtime; `platform.py` only registers them (metadata, options, dependencies).
"""

from __future__ import annotations

from components.spec import Service, Task, peers_name
from components.targets.kubernetes.pod import JsonDict


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


def pdb_spec(selector: dict[str, str]) -> JsonDict:
    return {"max_unavailable": 1, "selector": {"match_labels": selector}}


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
