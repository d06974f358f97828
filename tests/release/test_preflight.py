"""`make` stops before any Pulumi call when a tool is older than the minimum in scripts/preflight.sh,
and every document quotes those same minimums."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.release.sandbox import ROOT, Sandbox

PREFLIGHT = ROOT / "scripts" / "preflight.sh"


def minimum(name: str) -> str:
    match = re.search(rf"^MIN_{name}=(\S+)$", PREFLIGHT.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert match, f"scripts/preflight.sh defines MIN_{name}"
    return match.group(1)


def short(version: str) -> str:
    """3.211.0 -> 3.211, as the documents write it."""
    return version.removesuffix(".0")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    yield Sandbox(tmp_path)


def at_least(found: str, required: str) -> bool:
    done = subprocess.run(["bash", "-c", f'source "{PREFLIGHT}"; version_at_least "$1" "$2"', "_", found, required],
                          check=False)
    return done.returncode == 0


@pytest.mark.parametrize(("found", "required", "expected"), [
    ("3.211.0", "3.211.0", True), ("v3.272.0", "3.211.0", True), ("3.200.0", "3.211.0", False),
    ("3.99.0", "3.211.0", False), ("28.2.2", "23.0.0", True), ("20.10.24+dfsg1", "23.0.0", False),
    ("0.12.1", "0.12.0", True), ("0.9.1", "0.12.0", False),
])
def test_versions_compare_by_number_not_by_text(found: str, required: str, expected: bool) -> None:
    assert at_least(found, required) is expected, f"{found} >= {required} should be {expected}"


@pytest.mark.parametrize(("variable", "old", "named"), [
    ("FAKE_DOCKER_VERSION", "20.10.24", "Docker Engine"),
    ("FAKE_BUILDX_VERSION", "0.11.2", "docker buildx"),
    ("FAKE_PULUMI_VERSION", "3.200.0", "the Pulumi CLI"),
])
def test_make_up_below_a_minimum_version_stops_with_one_clear_message(
    sandbox: Sandbox, variable: str, old: str, named: str
) -> None:
    run = sandbox.make("up", env={variable: old})
    assert run.returncode != 0, f"{named} {old} must stop make up:\n{run.output}"
    assert f"{named} {old} is older than the minimum" in run.output and "Nothing was run" in run.output, run.output
    assert run.calls == [], f"no Pulumi call before the preflight passes: {run.calls}"


def test_make_up_at_current_versions_passes_the_preflight(sandbox: Sandbox) -> None:
    run = sandbox.make("up")
    assert run.returncode == 0 and run.called("up"), run.output


def test_every_document_quotes_the_preflights_minimum_pulumi_cli() -> None:
    expected = short(minimum("PULUMI"))
    sources = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "tools").rglob("*.py")]
    quoted = {(path.relative_to(ROOT).as_posix(), version) for path in sources
              for version in re.findall(r"Pulumi CLI[^\n]{0,80}?\b(\d+\.\d+)(?:\.\d+)? or newer|"
                                        r"[Mm]inimum Pulumi CLI:? (\d+\.\d+)", path.read_text(encoding="utf-8"))
              for version in version if version}
    assert "README.md" in {path for path, _ in quoted}, f"the README is among them: {sorted(quoted)}"
    assert all(version == expected for _, version in quoted), (
        f"every minimum Pulumi CLI is {expected}: {sorted(quoted)}"
    )


def test_the_readme_names_the_minimum_docker_and_buildx() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Docker Engine {short(minimum('DOCKER'))}" in readme, "the README names the minimum Docker Engine"
    assert f"buildx {short(minimum('BUILDX'))}" in readme, "and the minimum buildx"
