"""Only the chosen target's provider SDK is imported: dev never loads pulumi_kubernetes, prod never pulumi_docker,
and neither loads pulumi_command (the cluster stacks' SSH provider, tests/cluster/test_program.py)."""

from __future__ import annotations

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
