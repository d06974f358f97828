"""Backups proven by restoring them: a CronJob that rebuilds the latest off-site backup into a throwaway
CloudNativePG cluster, runs the check query in it, and deletes it (`restore_verify.sh` beside this file).

The job runs kubectl (`registry.k8s.io/kubectl`, which ships a shell), never psql of its own: it creates
the throwaway `Cluster` from a manifest rendered here, polls its `Ready` condition, runs the check with
`kubectl exec` in the member's `postgres` container (psql over the member's local socket, as
`kubectl cnpg psql` does), and deletes the cluster. So the job's pod reaches the API server and nothing
else, and it holds no database password.

Least privilege, as Kubernetes RBAC allows it: the Role names the throwaway cluster and its one member for
every verb that carries a name (`get`, `delete`, `pods/exec`). `create` cannot be limited by name (the
API server authorizes it before the object has one), so the Role may create CloudNativePG clusters in
this namespace: nothing else. The throwaway cluster reads the running cluster's archive (its
`serverName`) and archives nowhere (`cnpg.latest_recovery_cluster_spec`).

A run succeeds only if the check passed; kube-state-metrics exports the CronJob's last success, which
the Prometheus rules record as the time of the last verified restore and alert on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.spec import (
    ConfigFile,
    Container,
    Database,
    Probes,
    Resources,
    RestoreVerification,
    Security,
    Service,
    Zone,
)
from components.targets.kubernetes import cnpg
from components.targets.kubernetes.pod import JsonDict, container_spec, key_for, pod_security
from components.targets.labels import (
    API_ACCESS_LABEL,
    COMPONENT_LABEL,
    EGRESS_LABEL,
    PART_OF,
    PART_OF_LABEL,
    ZONE_LABEL,
    ownership_labels,
    selector_labels,
)

SCRIPT = Path(__file__).with_name("restore_verify.sh")
CHECK_SUFFIX = "-restore-check"
"""The throwaway cluster is `<database service><suffix>`: one fixed name, so RBAC can name it."""
FILES_DIR = "/etc/restore-verify"
SCRIPT_PATH = f"{FILES_DIR}/verify.sh"
MANIFEST_PATH = f"{FILES_DIR}/cluster.yaml"
CHECK_SQL_PATH = f"{FILES_DIR}/check.sql"
KUBECTL_UID = 65532
"""Any non-root UID: the image runs kubectl only, which needs a writable HOME for its cache (/tmp)."""
RESOURCES = Resources(cpu_request="10m", cpu_limit="200m", memory_request="32Mi", memory_limit="128Mi")
"""kubectl polling the API: the throwaway cluster, not the job, is what costs (docs/budgets.md)."""
DEADLINE_MARGIN_SECONDS = 600
"""The Job's own deadline beyond the restore's timeout: time for the check and the deletion."""


def check_cluster_name(service: str) -> str:
    return f"{service}{CHECK_SUFFIX}"


def check_member(service: str) -> str:
    """CloudNativePG names members `<cluster>-<serial>`; the first (and only) member's serial is 1."""
    return f"{check_cluster_name(service)}-1"


def throwaway_manifest(service: Service, database: Database, storage_class: str) -> JsonDict:
    """The throwaway `Cluster`, as the job creates it (in its own namespace). Its members carry only the
    API-access label: the NetworkPolicies below are all they get (no zone labels, so no application
    reaches them)."""
    name = check_cluster_name(service.name)
    return {
        "apiVersion": cnpg.API,
        "kind": "Cluster",
        "metadata": {"name": name, "labels": {PART_OF_LABEL: PART_OF, COMPONENT_LABEL: "restore-check"}},
        "spec": cnpg.latest_recovery_cluster_spec(service, database, storage_class, {API_ACCESS_LABEL: "true"}),
    }


def role_rules(service: str) -> list[JsonDict]:
    """Exactly what restore_verify.sh does, by name wherever the API checks one."""
    cluster, member = check_cluster_name(service), check_member(service)
    group = cnpg.API.split("/", maxsplit=1)[0]
    return [
        {"api_groups": [group], "resources": ["clusters"], "verbs": ["create"]},
        {"api_groups": [group], "resources": ["clusters"], "resource_names": [cluster], "verbs": ["get", "delete"]},
        {"api_groups": [""], "resources": ["pods"], "resource_names": [member], "verbs": ["get"]},
        # kubectl 1.31+ execs over WebSockets, an HTTP GET the API server authorizes as `get`; SPDY (its
        # fallback) and, from 1.35, the WebSocket upgrade too need `create` (KEP-4006).
        {"api_groups": [""], "resources": ["pods/exec"], "resource_names": [member], "verbs": ["get", "create"]},
    ]


def job_container(service: Service, database: Database, verification: RestoreVerification,
                  storage_class: str) -> Container:
    manifest = yaml.safe_dump(throwaway_manifest(service, database, storage_class), sort_keys=False)
    return Container(
        image=verification.image,
        resources=RESOURCES,
        command=("/bin/sh", SCRIPT_PATH),
        env={"CLUSTER": check_cluster_name(service.name), "MANIFEST": MANIFEST_PATH, "CHECK_SQL": CHECK_SQL_PATH,
             "DATABASE": database.database, "TIMEOUT_SECONDS": str(verification.timeout_seconds),
             "HOME": "/tmp"},
        config_files=(ConfigFile(SCRIPT_PATH, SCRIPT.read_text()), ConfigFile(MANIFEST_PATH, manifest),
                      ConfigFile(CHECK_SQL_PATH, verification.check_sql + "\n")),
        security=Security(run_as_user=KUBECTL_UID, run_as_group=KUBECTL_UID, fs_group=KUBECTL_UID),
    )


def cronjob_spec(verification: RestoreVerification, container: Container, labels: dict[str, str]) -> JsonDict:
    """One run at a time, never retried (a failed restore is the finding; a retry would hide it), and
    killed once the restore's timeout and the margin have passed."""
    name = verification.job
    main, volumes = container_spec(name, container, None, [], Probes(), [], config_map_name=name)
    template: JsonDict = {
        "metadata": {"labels": labels},
        "spec": {
            "service_account_name": name,
            "automount_service_account_token": True,
            "enable_service_links": False,
            "restart_policy": "Never",
            "security_context": pod_security(container),
            "containers": [main],
            "volumes": volumes,
        },
    }
    return {
        "schedule": verification.schedule,
        "concurrency_policy": "Forbid",
        "successful_jobs_history_limit": 3,
        "failed_jobs_history_limit": 3,
        "job_template": {"metadata": {"labels": labels}, "spec": {
            "backoff_limit": 0,
            "active_deadline_seconds": verification.timeout_seconds + DEADLINE_MARGIN_SECONDS,
            "template": template,
        }},
    }


def job_labels(job: str, environment: str) -> dict[str, str]:
    """The database's zone (every pod has one) with the `declared` egress profile and no zone declared:
    no peer egress, so the job's pod reaches only DNS and (with the API-access label on its pods) the
    API server. It listens on nothing."""
    return {**selector_labels(job, environment), **ownership_labels(), COMPONENT_LABEL: "restore-verify",
            ZONE_LABEL: Zone.DATABASE.value, EGRESS_LABEL: "declared"}


def config_map_data(container: Container) -> dict[str, str]:
    return {key_for(f.path): str(f.content) for f in container.config_files}


@dataclass(frozen=True, kw_only=True)
class RestoreVerifyArgs:
    service: Service
    """The database service whose archive is restored."""
    database: Database
    verification: RestoreVerification
    storage_class: str
    namespace: str
    environment: str
    annotations: dict[str, str]
    provider: pulumi.ProviderResource
    depends_on: list[pulumi.Resource]
    """The namespace, and the running cluster (its archive must exist before anything restores it)."""


class RestoreVerify(pulumi.ComponentResource):
    """The CronJob, its ServiceAccount and Role, its files, and the throwaway cluster's NetworkPolicies."""

    def __init__(self, name: str, args: RestoreVerifyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:kubernetes:RestoreVerify", name, None, opts)
        verification, service = args.verification, args.service
        job = verification.job

        labels = job_labels(job, args.environment)

        def meta(resource_name: str) -> JsonDict:
            return {"name": resource_name, "namespace": args.namespace, "labels": labels,
                    **({"annotations": args.annotations} if args.annotations else {})}

        def child() -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.depends_on)

        container = job_container(service, args.database, verification, args.storage_class)
        account = k8s.core.v1.ServiceAccount(f"{name}-account", metadata=meta(job),
                                             automount_service_account_token=False, opts=child())
        role = k8s.rbac.v1.Role(f"{name}-role", metadata=meta(job), rules=role_rules(service.name), opts=child())
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-binding", metadata=meta(job),
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": job},
            subjects=[{"kind": "ServiceAccount", "name": job, "namespace": args.namespace}],
            opts=child())
        files = k8s.core.v1.ConfigMap(f"{name}-files", metadata=meta(job), data=config_map_data(container),
                                      opts=child())
        # The throwaway members: the operator reaches them, they reach the store; the job's pod itself
        # carries only the API-access label (DNS and the API server: the namespace's zone policies).
        for policy in cnpg.network_policies(check_cluster_name(service.name), args.database.archive):
            k8s.networking.v1.NetworkPolicy(f"{name}-{policy['name']}", metadata=meta(policy["name"]),
                                            spec=policy["spec"], opts=child())
        pod_labels = {**labels, API_ACCESS_LABEL: "true"}
        self.cronjob = k8s.batch.v1.CronJob(
            f"{name}-cronjob", metadata=meta(job), spec=cronjob_spec(verification, container, pod_labels),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                        depends_on=[*args.depends_on, account, role, binding, files]))
        self.register_outputs({"cronjob": self.cronjob.metadata["name"]})
