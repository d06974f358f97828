"""Only the chosen target's provider SDK is imported: dev never loads pulumi_kubernetes, prod never pulumi_docker,
and neither loads pulumi_command (the cluster stacks' SSH provider, tests/cluster/test_program.py)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.harness import ROOT

PROBE = (
    "import sys; sys.path.insert(0, {root!r}); from tests.harness import evaluate; evaluate({stack!r}); "
    "print('pulumi_docker' in sys.modules, 'pulumi_kubernetes' in sys.modules, 'pulumi_command' in sys.modules)"
)


@pytest.mark.parametrize(("stack", "expected"), [("dev", "True False False"), ("prod", "False True False")])
def test_a_stack_imports_only_its_own_target_provider(stack: str, expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(root=str(ROOT), stack=stack)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    assert done.stdout.strip().splitlines()[-1] == expected, (
        f"{stack}: (imports pulumi_docker, pulumi_kubernetes, pulumi_command) should be {expected}"
    )


def test_components_outside_the_targets_never_import_a_provider_package() -> None:
    offenders = []
    for path in (ROOT / "components").rglob("*.py"):
        if "targets" in path.parts:
            continue
        text = path.read_text()
        if any(package in text for package in ("pulumi_docker", "pulumi_kubernetes", "pulumi_command")):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"only components/targets may import provider packages: {offenders}"


def test_components_outside_the_targets_write_no_provider_specific_annotations_or_names() -> None:
    # Sticky sessions, scrape opt-ins and cluster DNS names are the target's to write (from neutral intents
    # in spec.Exposure, spec.Port.metrics_path and PlatformFacts.fqdn).
    offenders = []
    for path in (ROOT / "components").rglob("*.py"):
        if "targets" in path.parts:
            continue
        text = path.read_text()
        for marker in ("traefik.ingress.kubernetes.io", ".svc.cluster.local\"", "svc.{"):
            if marker in text:
                offenders.append(f"{path.relative_to(ROOT)}: {marker}")
    assert not offenders, f"provider-specific strings outside components/targets: {offenders}"


# -- target specifics in code outside the targets ---------------------------------------------------------
SPECIFICS = (
    "cluster.local", "docker.sock", "/var/log/pods", "traefik.", "helm.cattle.io", "cnpg.io", "keda.sh",
    "pulumi.com/", "kubernetes.io/", "networking.k8s.io", "apps/v1", "batch/v1", "local-path", "10.43.0.10",
    "127.0.0.11",
)
"""Strings only a target should write: cluster DNS, API groups and kinds' versions, provider annotations,
k3s defaults, Docker's socket and DNS, the node's pod log directory."""
NEUTRAL_HOMES = ("targets", "config", "cluster")
"""components/targets answers for the platform; components/config validates each target's own settings;
components/cluster is the k3s cluster program itself."""
KNOWN = {
    ("monitoring/alloy/config.py", "docker.sock"): "Alloy's Docker log source (LogSource.DOCKER_SOCKET)",
    ("monitoring/alloy/config.py", "/var/log/pods"): "Alloy's pod log source (LogSource.POD_LOG_FILES)",
    ("budgets.py", "Target.DOCKER"): "which budget applies (the laptop's or the cluster's capacity)",
}
"""Where a specific is still written outside the targets, and why. The test fails when one goes away too,
so this list only shrinks on purpose."""


def _docstrings(tree: ast.AST) -> set[int]:
    """String expressions standing alone (docstrings, attribute docs): prose, not behaviour."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def specifics_outside_the_targets() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    root = ROOT / "components"
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] in NEUTRAL_HOMES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        prose = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
                found |= {(str(relative), marker) for marker in SPECIFICS if marker in node.value}
            # Asking which target it is, instead of asking PlatformFacts.
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Target":
                found.add((str(relative), f"Target.{node.attr}"))
    return found


def test_code_outside_the_targets_writes_no_target_specifics_and_never_tests_the_target_kind() -> None:
    found = specifics_outside_the_targets()
    new = sorted(found - set(KNOWN))
    assert not new, f"target specifics outside components/targets (ask PlatformFacts or the target): {new}"
    gone = sorted(set(KNOWN) - found)
    assert not gone, f"no longer written there: remove them from KNOWN: {gone}"


def test_the_scan_catches_a_specific_written_in_code_but_not_in_prose() -> None:
    tree = ast.parse('"""Docstring: cluster.local is prose."""\nHOST = "x.svc.cluster.local"\n')
    prose = _docstrings(tree)
    code = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in prose]
    assert code == ["x.svc.cluster.local"], f"only the code's string is scanned: {code}"
