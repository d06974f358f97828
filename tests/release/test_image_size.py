"""The image workflow's size gate (.github/scripts/image-size.sh), run with a fake `docker`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness import ROOT

SCRIPT = ROOT / ".github" / "scripts" / "image-size.sh"


def run(tmp_path: Path, size_bytes: int, limit_mb: str) -> tuple[int, str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(f"#!/bin/sh\n[ \"$1 $2\" = 'image inspect' ] && echo {size_bytes}\n")
    docker.chmod(0o755)
    summary = tmp_path / "summary.md"
    done = subprocess.run(["bash", str(SCRIPT), "scan/dreamscape-core:1", limit_mb], capture_output=True, text=True,
                          check=False, env={"PATH": f"{bin_dir}:/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary)})
    return done.returncode, done.stdout, summary.read_text() if summary.exists() else ""


@pytest.mark.parametrize(("size_bytes", "passes"), [(412_000_000, True), (500_000_000, True), (500_000_001, False)])
def test_an_image_above_the_limit_fails_and_every_size_reaches_the_summary(
    tmp_path: Path, size_bytes: int, passes: bool
) -> None:
    code, out, summary = run(tmp_path, size_bytes, "500")
    assert (code == 0) is passes, f"{size_bytes} bytes against 500 MB: exit {code}\n{out}"
    mb = -(-size_bytes // 1_000_000)
    assert f"**{mb} MB**" in summary and "scan/dreamscape-core:1" in summary, f"the size is in the summary: {summary}"
    if not passes:
        assert "::error::" in out, "a failure is an annotation on the run"


def test_the_workflow_runs_the_gate_on_each_image_before_the_scan_with_the_seeds_limit() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "images.yml").read_text(encoding="utf-8"))
    assert int(workflow["env"]["IMAGE_SIZE_LIMIT_MB"]) <= 500, "the seed asks for images under 500 MB"
    steps = workflow["jobs"]["image"]["steps"]
    names = [str(step.get("name", "")) for step in steps]
    size = next(i for i, name in enumerate(names) if name.startswith("Size"))
    scan = next(i for i, name in enumerate(names) if name.startswith("Scan"))
    assert size < scan and "image-size.sh" in steps[size]["run"] and "IMAGE_SIZE_LIMIT_MB" in steps[size]["run"]
