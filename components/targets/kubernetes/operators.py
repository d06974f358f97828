"""Cluster-wide operators the Kubernetes target relies on: one entry each, the only list of them.

An entry names the Helm chart (repository, pinned version), the namespace it runs in, the values it gets,
the requests of its pods (counted by the capacity budget) and the CRD files vendored next to this module.

Why the program registers the CRDs itself (docs/architecture.md, "Operators"):
- a custom resource whose CRD a controller installs later fails `pulumi preview` on an empty cluster
  ("no matches for kind"); pulumi-kubernetes caches the CRDs the program itself creates, so a custom
  resource previews when its CRD is a resource of the same program;
- so the program registers every pinned, vendored CRD of an operator, and installs the operator through
  k3s' own helm-controller (a `helm.cattle.io/v1` `HelmChart` in `kube-system`) with the chart's CRD
  install switched off; the tests validate every custom resource against the same files.

Operators are cluster-wide: only a stack with `kubernetes.installOperators` (prod) installs them. Shared
review clusters rely on the cluster owner's installation (docs/review-environments.md).

Pure data and builders: nothing here imports the provider; `platform.py` registers the resources.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.spec import Resources

CRD_ROOT = Path(__file__).parent / "crds"
HELM_CHART_API = "helm.cattle.io/v1"
HELM_NAMESPACE = "kube-system"
"""k3s' helm-controller only watches HelmCharts here (and runs `helm-install-<name>` Jobs here)."""


@dataclass(frozen=True, kw_only=True)
class OperatorPod:
    """One Deployment of the chart: where its requests go in the values, and how much it reserves."""

    values_path: tuple[str, ...]
    """Path of the `resources` block in the chart's values (`("webhook", "resources")`)."""
    resources: Resources


@dataclass(frozen=True, kw_only=True)
class Operator:
    name: str
    """The HelmChart's name (so the install Job is `helm-install-<name>`); never rename without an alias."""
    chart: str
    repo: str
    version: str
    """The chart version, pinned."""
    app_version: str
    """The operator release the chart installs; the vendored CRDs are this release's."""
    namespace: str
    crd_source: str
    """Where the vendored CRD files were taken from, at `app_version`."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """Chart values besides the pods' resources; each switches the chart's own CRD install off."""
    pods: tuple[OperatorPod, ...] = ()
    after: tuple[str, ...] = ()
    """Operators this one needs running first (the Barman Cloud plugin's certificates: cert-manager)."""

    @property
    def crd_dir(self) -> Path:
        return CRD_ROOT / self.name

    def crds(self) -> tuple[dict[str, Any], ...]:
        return _crds(self.crd_dir)

    def kinds(self) -> frozenset[tuple[str, str]]:
        """(group, kind) of every CRD this operator brings."""
        return frozenset(crd_kind(crd) for crd in self.crds())

    def chart_values(self) -> dict[str, Any]:
        values: dict[str, Any] = yaml.safe_load(yaml.safe_dump(dict(self.values)))  # a deep, plain copy
        for pod in self.pods:
            *parents, leaf = pod.values_path
            node = values
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = {"requests": {"cpu": pod.resources.cpu_request, "memory": pod.resources.memory_request},
                          "limits": {"cpu": pod.resources.cpu_limit, "memory": pod.resources.memory_limit}}
        return values


def _small(cpu: str, memory: str, cpu_limit: str = "500m", memory_limit: str = "256Mi") -> Resources:
    return Resources(cpu_request=cpu, cpu_limit=cpu_limit, memory_request=memory, memory_limit=memory_limit)


CERT_MANAGER = Operator(
    name="cert-manager", chart="cert-manager", repo="https://charts.jetstack.io",
    version="v1.21.1", app_version="v1.21.1", namespace="cert-manager",
    crd_source="https://github.com/cert-manager/cert-manager/tree/v1.21.1/deploy/crds",
    # `crds.enabled` is already false by default; said here so that no chart upgrade turns it on silently.
    values={"crds": {"enabled": False}},
    pods=(OperatorPod(values_path=("resources",), resources=_small("10m", "64Mi")),
          OperatorPod(values_path=("webhook", "resources"), resources=_small("10m", "32Mi")),
          OperatorPod(values_path=("cainjector", "resources"), resources=_small("10m", "64Mi"))),
)
CLOUDNATIVE_PG = Operator(
    name="cloudnative-pg", chart="cloudnative-pg", repo="https://cloudnative-pg.github.io/charts",
    version="0.29.0", app_version="v1.30.0", namespace="cnpg-system",
    crd_source="https://github.com/cloudnative-pg/cloudnative-pg/tree/v1.30.0/config/crd/bases",
    values={"crds": {"create": False}},
    pods=(OperatorPod(values_path=("resources",), resources=_small("50m", "128Mi", memory_limit="512Mi")),),
)
BARMAN_CLOUD = Operator(
    name="plugin-barman-cloud", chart="plugin-barman-cloud", repo="https://cloudnative-pg.github.io/charts",
    version="0.7.0", app_version="v0.13.0",
    # The plugin must run in the operator's namespace (it is reached through the operator's service).
    namespace="cnpg-system",
    crd_source="https://github.com/cloudnative-pg/plugin-barman-cloud/tree/v0.13.0/config/crd/bases",
    values={"crds": {"create": False}},
    pods=(OperatorPod(values_path=("resources",), resources=_small("10m", "64Mi")),),
    after=("cert-manager", "cloudnative-pg"),
)
KEDA = Operator(
    name="keda", chart="keda", repo="https://kedacore.github.io/charts",
    version="2.20.2", app_version="v2.20.2", namespace="keda",
    crd_source="https://github.com/kedacore/keda/tree/v2.20.2/config/crd/bases",
    values={"crds": {"install": False}},
    pods=(OperatorPod(values_path=("resources", "operator"), resources=_small("50m", "128Mi", "1", "1000Mi")),
          OperatorPod(values_path=("resources", "metricServer"),
                      resources=_small("50m", "128Mi", "1", "1000Mi")),
          OperatorPod(values_path=("resources", "webhooks"), resources=_small("10m", "64Mi"))),
)

OPERATORS: tuple[Operator, ...] = (CERT_MANAGER, CLOUDNATIVE_PG, BARMAN_CLOUD, KEDA)
"""In install order (an entry's `after` names only earlier entries; a test checks it)."""


def crd_kind(crd: Mapping[str, Any]) -> tuple[str, str]:
    return str(crd["spec"]["group"]), str(crd["spec"]["names"]["kind"])


@cache
def _crds(directory: Path) -> tuple[dict[str, Any], ...]:
    documents: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        # libyaml when present: the vendored CRDs are about 3 MB, which the pure-Python loader parses slowly.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        documents += [doc for doc in yaml.load_all(path.read_text(), Loader=loader) if doc]
    if not documents:
        raise FileNotFoundError(f"no CRD files in {directory}")
    return tuple(documents)


def all_crds(operators: tuple[Operator, ...] = OPERATORS) -> Iterator[tuple[Operator, dict[str, Any]]]:
    for operator in operators:
        for crd in operator.crds():
            yield operator, crd


def helm_chart_spec(operator: Operator) -> dict[str, Any]:
    """The `HelmChart` spec k3s' helm-controller installs the operator from."""
    return {
        "chart": operator.chart,
        "repo": operator.repo,
        "version": operator.version,
        "targetNamespace": operator.namespace,
        "createNamespace": True,
        "valuesContent": yaml.safe_dump(operator.chart_values(), sort_keys=True),
    }


def reserved(operators: tuple[Operator, ...] = OPERATORS) -> tuple[tuple[str, Resources], ...]:
    """Every operator pod's requests, by `<operator>-<n>`: what installing them takes from the cluster."""
    return tuple((f"operator-{op.name}-{index}", pod.resources)
                 for op in operators for index, pod in enumerate(op.pods))
