"""`python -m tools.release canary` end to end: the real CLI and Automation API, a stub `pulumi` first on PATH
(records every call, keeps the stack tags), and the stub Prometheus HTTP API of test_canary.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.release.test_canary import Series, StubPrometheus
from tests.release.test_canary import prometheus as prometheus  # noqa: PLC0414  (the fixture)
from tools.release import canary
from tools.release.model import TAG_CURRENT

ROOT = Path(__file__).resolve().parents[2]
STABLE_TAG, NEW_TAG, POD = "old1", "new1", "core"
STABLE, CANARY = canary.selectors(POD)

STUB_PULUMI = """#!{python}
import json, os, sys
args = [a for a in sys.argv[1:] if a != "--non-interactive"]
with open(os.environ["STUB_PULUMI_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
tags_file = os.environ["STUB_PULUMI_TAGS"]
if args[:1] == ["version"]:
    print("v3.272.0")
elif args[:3] == ["stack", "tag", "ls"]:
    print(open(tags_file).read())
elif args[:3] == ["stack", "tag", "set"]:
    tags = json.load(open(tags_file))
    tags[args[3]] = args[4]
    json.dump(tags, open(tags_file, "w"))
elif args[:2] == ["stack", "output"]:
    print("{{}}")
elif args[:2] == ["stack", "history"]:
    print(json.dumps([{{"version": 1, "kind": "update", "startTime": "2026-01-01T00:00:00.000Z", "message": "",
                       "environment": {{}}, "config": {{}}, "result": "succeeded",
                       "endTime": "2026-01-01T00:00:01.000Z", "resourceChanges": {{}}}}]))
elif args[:1] == ["up"]:
    message = args[args.index("--message") + 1]
    if message == os.environ.get("STUB_UP_FAIL"):
        print("error: the stub update failed", file=sys.stderr)
        sys.exit(1)
    print("Updating (stub): " + message)
"""


@dataclass
class Release:
    repo: Path
    log: Path
    tags: Path
    prometheus: StubPrometheus
    env: dict[str, str]

    def run(self, *extra: str, pods: tuple[str, ...] = (POD,)) -> subprocess.CompletedProcess[str]:
        summary = self.repo / "summary.md"
        argv = [sys.executable, "-m", "tools.release", "canary", "--stack", "prod", "--cwd", str(self.repo),
                "--backend-url", f"file://{self.repo}/state", "--allow-local-backend", "--tag", NEW_TAG,
                *(arg for pod in pods for arg in ("--pod", pod)), "--prometheus", self.prometheus.url,
                "--markdown-summary", str(summary), *extra]
        return subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120, check=False)

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def updates(self) -> list[str]:
        """The `--message` of every `pulumi up`, in order."""
        return [call[call.index("--message") + 1] for call in self.calls() if call[:1] == ["up"]]

    def config_sets(self) -> list[tuple[str, str]]:
        sets = [call for call in self.calls() if call[:2] == ["config", "set"]]
        return [(call[call.index("--plaintext") - 1], call[-1]) for call in sets]

    def recorded(self) -> dict[str, str]:
        tags: dict[str, str] = json.loads(self.tags.read_text())
        return tags


@pytest.fixture
def release(tmp_path: Path, prometheus: StubPrometheus) -> Iterator[Release]:
    bin_dir, repo = tmp_path / "bin", tmp_path / "repo"
    bin_dir.mkdir()
    repo.mkdir()
    stub = bin_dir / "pulumi"
    stub.write_text(STUB_PULUMI.format(python=sys.executable))
    stub.chmod(0o755)
    (repo / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    # A one-second window: the flow waits it out before the check (prod's is minutes).
    stack["config"]["dreamscape:canary"] = {"window": "1s"}
    (repo / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack))
    tags = tmp_path / "tags.json"
    tags.write_text(json.dumps({TAG_CURRENT: STABLE_TAG}))
    prometheus.series = {STABLE: Series(), CANARY: Series()}
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STUB_PULUMI_LOG": str(tmp_path / "log"),
           "STUB_PULUMI_TAGS": str(tags), "PULUMI_SKIP_UPDATE_CHECK": "true"}
    yield Release(repo=repo, log=tmp_path / "log", tags=tags, prometheus=prometheus, env=env)


def test_a_healthy_canary_is_promoted_and_recorded(release: Release) -> None:
    before = (release.repo / "Pulumi.prod.yaml").read_bytes()
    result = release.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert release.updates() == [f"release {STABLE_TAG} with canary {POD} {NEW_TAG}", f"release {NEW_TAG}"], (
        "one update with the canary beside the stable, then one that promotes it")
    assert release.config_sets() == [
        ("dreamscape:imageTag", STABLE_TAG), (f"dreamscape:canary.images.{POD}", NEW_TAG),
        ("dreamscape:imageTag", NEW_TAG)], "the promotion sets no canary key: the canary is off"
    assert release.recorded()[TAG_CURRENT] == NEW_TAG, "the promoted tag is recorded as running"
    assert any(CANARY in q for q in release.prometheus.queries), "the check read the canary's series"
    assert any(STABLE in q for q in release.prometheus.queries), "and the stable's"
    assert (release.repo / "Pulumi.prod.yaml").read_bytes() == before, "the stack file is left as it was"
    assert "Promoted" in (release.repo / "summary.md").read_text()


def test_a_canary_with_more_5xx_is_rolled_back_to_the_stable_without_a_canary(release: Release) -> None:
    release.prometheus.series[CANARY] = Series(error_rate=0.2)
    result = release.run()
    assert result.returncode == 3, result.stdout + result.stderr
    assert release.updates()[1:] == [f"release {STABLE_TAG}"], "the rollback update runs the stable, no canary"
    assert release.config_sets()[-1] == ("dreamscape:imageTag", STABLE_TAG)
    assert release.recorded()[TAG_CURRENT] == STABLE_TAG, "a rolled back tag is never recorded as running"
    assert "5xx rate" in result.stdout and "Rolled back" in result.stdout, result.stdout


def test_no_answer_from_prometheus_rolls_back(release: Release) -> None:
    release.prometheus.failing = True
    result = release.run()
    assert result.returncode == 3, result.stdout + result.stderr
    assert release.updates()[-1] == f"release {STABLE_TAG}"
    assert "Prometheus did not answer" in result.stdout


def test_a_failed_promotion_exits_1_and_records_nothing(release: Release) -> None:
    release.env["STUB_UP_FAIL"] = f"release {NEW_TAG}"
    result = release.run()
    assert result.returncode == 1, result.stdout + result.stderr
    assert release.recorded()[TAG_CURRENT] == STABLE_TAG
    assert "promotion's update failed" in result.stdout and "the stub update failed" in result.stdout


def test_a_failed_canary_update_rolls_back_without_a_check(release: Release) -> None:
    release.env["STUB_UP_FAIL"] = f"release {STABLE_TAG} with canary {POD} {NEW_TAG}"
    result = release.run()
    assert result.returncode == 3, result.stdout + result.stderr
    assert release.updates()[-1] == f"release {STABLE_TAG}"
    assert not release.prometheus.queries, "nothing to judge when the canary never ran"


@pytest.mark.parametrize(("tags", "pods", "words"), [
    ({}, (POD,), "no release of prod is recorded"),
    ({TAG_CURRENT: STABLE_TAG}, ("business",), "public route"),
    ({TAG_CURRENT: STABLE_TAG}, (), "--pod"),
])
def test_a_canary_that_cannot_run_changes_nothing(release: Release, tags: dict[str, str], pods: tuple[str, ...],
                                                  words: str) -> None:
    release.tags.write_text(json.dumps(tags))
    result = release.run(pods=pods)
    assert result.returncode == 2, result.stdout + result.stderr
    assert words in result.stderr, result.stderr
    assert not release.updates(), "no update ran"
