"""`Target.grant_access` on Kubernetes: the read-only `preview` identity and the registry pull secret.

The read-only identity
----------------------
CI previews pull requests with the kubeconfig of a ServiceAccount that can read and write nothing else.
What `pulumi preview` asks of the cluster, with pulumi-kubernetes 4.x:
- discovery and the server version (allowed to every authenticated identity by Kubernetes' defaults);
- diffs are computed from the state, not the cluster; creates and updates are previewed with a
  server-side dry-run (`?dryRun=All`), which Kubernetes authorises as the write itself, so this identity
  gets `Forbidden` and the provider falls back to a client-side preview, as designed for read-only
  credentials;
- `--refresh` (and imports) GET the live objects: that is what the Role grants, for every kind the
  program manages, in the stack's namespaces. Secrets are deliberately left out: no preview needs their
  contents, and a pull request's preview must not be able to read prod's secrets.
Reads outside the stack's namespaces are pinned by name: the two namespaces themselves, this identity's
own ClusterRole, ClusterRoleBinding and kube-system Role and RoleBinding, the ClusterRoles and bindings of
the workloads with cluster-scoped rules (Prometheus reads the nodes' kubelets), k3s' `traefik`
HelmChartConfig in kube-system (the edge configures it) and, on a stack that installs the operators, their
HelmCharts in kube-system and their CRDs (components/targets/kubernetes/operators.py).
`tests/release/test_preview_identity.py` evaluates these rules against every object the prod and review
programs register.

The registry pull secret
------------------------
A `kubernetes.io/dockerconfigjson` Secret in the environment's namespace, referenced by every pod template
there (`imagePullSecrets`; the kubelet looks it up at each pull, so pods created before the Secret
recover on their next pull). The node-agents namespace runs only public images and gets none.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from components.spec import ApiRule, ApiScope
from components.spec.access import Access, ReadOnlyIdentity, RegistryCredentials
from components.targets.kubernetes import issuers, operators
from components.targets.kubernetes.pod import JsonDict
from components.targets.labels import COMPONENT_LABEL, ownership_labels

if TYPE_CHECKING:
    from components.targets.kubernetes.platform import KubernetesPlatform

READ_VERBS = ("get", "list", "watch")
NAMESPACED_KINDS: tuple[tuple[str, str], ...] = (
    ("", "configmaps"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("policy", "poddisruptionbudgets"),
    ("keda.sh", "scaledobjects"),
    ("networking.k8s.io", "networkpolicies"),
    ("networking.k8s.io", "ingresses"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("traefik.io", "middlewares"),
    ("traefik.io", "tlsoptions"),
    ("postgresql.cnpg.io", "clusters"),
    ("postgresql.cnpg.io", "scheduledbackups"),
    ("barmancloud.cnpg.io", "objectstores"),
    ("cert-manager.io", "issuers"),
    ("cert-manager.io", "certificates"),
)
"""(API group, resource) of every namespaced kind the Kubernetes target registers, Secrets excepted."""
EDGE_NAMESPACE = "kube-system"
EDGE_CONFIG = ("helm.cattle.io", "helmchartconfigs", "traefik")
PULL_SECRET = "registry-pull"
LABELS = {**ownership_labels(), COMPONENT_LABEL: "access"}


def read_rules(kinds: Iterable[tuple[str, str]]) -> list[JsonDict]:
    """get/list/watch on `kinds`, one rule per API group (sorted, so the Role is stable)."""
    by_group: dict[str, set[str]] = defaultdict(set)
    for group, resource in kinds:
        by_group[group].add(resource)
    return [{"api_groups": [group], "resources": sorted(resources), "verbs": list(READ_VERBS)}
            for group, resources in sorted(by_group.items())]


def policy_rules(rules: Iterable[ApiRule], scope: ApiScope) -> list[JsonDict]:
    """The PolicyRules of a workload's `rules` in `scope` (a Role's, or a ClusterRole's)."""
    return [{"api_groups": list(r.api_groups), "resources": list(r.resources), "verbs": list(r.verbs)}
            for r in rules if r.scope is scope]


def cluster_grant_name(namespace: str, service: str) -> str:
    """The ClusterRole (and binding) of `service`'s cluster-scoped rules: named after its namespace, since
    cluster-scoped names are shared by every stack on the cluster (review stacks share one)."""
    return f"{namespace}-{service}"


def docker_config_json(credentials: RegistryCredentials) -> pulumi.Output[str]:
    """The `.dockerconfigjson` document for one registry host, as a secret."""

    def render(password: str) -> str:
        token = base64.b64encode(f"{credentials.username}:{password}".encode()).decode()
        entry = {"username": credentials.username, "password": password, "auth": token}
        return json.dumps({"auths": {credentials.server: entry}}, sort_keys=True)

    return pulumi.Output.secret(credentials.password.apply(render))


def grant(platform: KubernetesPlatform, access: Access, parent: pulumi.Resource) -> None:
    if access.registry is not None:
        _pull_secret(platform, access.registry, parent)
    if access.read_only is not None:
        _read_only(platform, access.read_only, parent)


def pull_secrets(platform: KubernetesPlatform, namespace: str) -> JsonDict:
    """The pod spec fields that make a pod in `namespace` pull with the registry credentials."""
    if platform.registry_pull_secret is None or namespace != platform.namespace_name:
        return {}
    return {"image_pull_secrets": [{"name": platform.registry_pull_secret}]}


def _pull_secret(platform: KubernetesPlatform, credentials: RegistryCredentials, parent: pulumi.Resource) -> None:
    k8s.core.v1.Secret(
        f"{PULL_SECRET}-secret",
        metadata={"name": PULL_SECRET, "namespace": platform.namespace_name, "labels": LABELS},
        type="kubernetes.io/dockerconfigjson",
        string_data={".dockerconfigjson": docker_config_json(credentials)},
        opts=platform._opts(parent, depends_on=[platform.namespace]),
    )
    platform.registry_pull_secret = PULL_SECRET


def _read_only(platform: KubernetesPlatform, identity: ReadOnlyIdentity, parent: pulumi.Resource) -> None:
    name = identity.name
    main = platform.namespace_name
    cluster_name = f"dreamscape-{platform.settings.environment}-{name}"
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": main}]
    account = k8s.core.v1.ServiceAccount(
        f"{name}-account",
        metadata={"name": name, "namespace": main, "labels": LABELS},
        # Its token is minted on purpose (`kubectl create token`), never mounted into a pod.
        automount_service_account_token=False,
        opts=platform._opts(parent, depends_on=[platform.namespace]),
    )
    namespaces: list[tuple[str, str, pulumi.Resource]] = [
        ("main", main, platform.namespace),
        ("agents", platform.agents_namespace_name, platform._agents()),
    ]
    grants: list[tuple[str, str, pulumi.Resource | None, list[JsonDict]]] = [
        (suffix, ns_name, ns, read_rules(NAMESPACED_KINDS)) for suffix, ns_name, ns in namespaces
    ]
    group, resource, object_name = EDGE_CONFIG
    installed = platform.operators
    crd_names = sorted(crd["metadata"]["name"] for _, crd in operators.all_crds(installed))
    chart_rule = [{"api_groups": ["helm.cattle.io"], "resources": ["helmcharts"],
                   "resource_names": [op.name for op in installed], "verbs": ["get"]}] if installed else []
    crd_rule = [{"api_groups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"],
                 "resource_names": crd_names, "verbs": ["get"]}] if crd_names else []
    # The ClusterIssuers come with cert-manager (platform.py): a refresh reads them back by name.
    issuer_rule = [{"api_groups": ["cert-manager.io"], "resources": ["clusterissuers"],
                    "resource_names": [i.name for i in issuers.cluster_issuers(platform._config.edge.acme_server)],
                    "verbs": ["get"]}] if operators.CERT_MANAGER in installed else []
    grants.append(("edge", EDGE_NAMESPACE, None, [
        {"api_groups": [group], "resources": [resource], "resource_names": [object_name], "verbs": ["get"]},
        *chart_rule,
        # Its own grant there, so a refresh can read it back.
        {"api_groups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"],
         "resource_names": [cluster_name], "verbs": ["get"]},
    ]))
    for suffix, ns_name, ns, rules in grants:
        role_name = f"{name}-read" if ns_name != EDGE_NAMESPACE else cluster_name
        role = k8s.rbac.v1.Role(
            f"{name}-read-{suffix}",
            metadata={"name": role_name, "namespace": ns_name, "labels": LABELS},
            rules=rules,
            opts=platform._opts(parent, depends_on=[ns] if ns is not None else None),
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-read-{suffix}-binding",
            metadata={"name": role_name, "namespace": ns_name, "labels": LABELS},
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name},
            subjects=subject,
            opts=platform._opts(parent, depends_on=[account, role]),
        )
    cluster_role = k8s.rbac.v1.ClusterRole(
        f"{name}-namespaces",
        metadata={"name": cluster_name, "labels": LABELS},
        rules=[
            {"api_groups": [""], "resources": ["namespaces"], "resource_names": [ns for _, ns, _ in namespaces],
             "verbs": ["get"]},
            # Its own cluster-scoped grant and the stack's workloads' ones, so a refresh can read them back.
            {"api_groups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings"],
             "resource_names": [cluster_name, *(cluster_grant_name(main, service)
                                                for service in identity.cluster_grants)],
             "verbs": ["get"]},
            *crd_rule,
            *issuer_rule,
        ],
        opts=platform._opts(parent),
    )
    k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-namespaces-binding",
        metadata={"name": cluster_name, "labels": LABELS},
        role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_name},
        subjects=subject,
        opts=platform._opts(parent, depends_on=[account, cluster_role]),
    )
