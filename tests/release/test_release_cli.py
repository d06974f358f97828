"""`python -m tools.release` through the backend seam: the record, and rollback to the last good release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.release.fakes import FakeReleaseBackend
from tools.release.cli import EXIT_DEPLOY_FAILED, EXIT_ERROR, main
from tools.release.model import GOOD_HISTORY, TAG_CURRENT, TAG_HISTORY, TAG_LAST_GOOD, ReleaseRecord

SHARED = {"PULUMI_BACKEND_URL": "s3://dreamscape-pulumi-state"}
A, B, C = "a" * 40, "b" * 40, "c" * 40


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    return tmp_path


def release(repo: Path, backend: FakeReleaseBackend, *args: str, environ: dict[str, str] | None = None) -> int:
    return main([*args, "--cwd", str(repo)], backend.factory, SHARED if environ is None else environ)


def test_after_a_failed_deploy_rollback_redeploys_the_last_good_release_and_records_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = FakeReleaseBackend(tags=ReleaseRecord(current=C, last_good=B, good_history=(B, A)).tags())
    summary = repo / "summary.md"
    code = release(repo, backend, "rollback", "--stack", "prod", "--markdown-summary", str(summary))
    assert code == 0, "a successful rollback exits 0"
    assert ("deploy", "prod", B) in backend.calls, f"the last good release is redeployed: {backend.calls}"
    assert backend.tags[TAG_CURRENT] == B, "the record says what runs now"
    assert backend.tags[TAG_LAST_GOOD] == B, "the last good release is unchanged"
    text = summary.read_text()
    assert "done" in text and B in text and C in text, f"the report names both releases:\n{text}"
    assert f"{C} -> {B}" in capsys.readouterr().out, "the log says what happens before it happens"


def test_when_the_running_release_was_good_rollback_goes_one_release_further_back(repo: Path) -> None:
    backend = FakeReleaseBackend(tags=ReleaseRecord(current=C, last_good=C, good_history=(C, B, A)).tags())
    assert release(repo, backend, "rollback", "--stack", "prod") == 0
    assert ("deploy", "prod", B) in backend.calls, f"the newest good release that is not running: {backend.calls}"


def test_rollback_to_an_explicit_tag_deploys_exactly_that_tag(repo: Path) -> None:
    backend = FakeReleaseBackend(tags=ReleaseRecord(current=C, last_good=B).tags())
    assert release(repo, backend, "rollback", "--stack", "prod", "--to", "v1.4.2") == 0
    assert ("deploy", "prod", "v1.4.2") in backend.calls, backend.calls


def test_a_failed_rollback_is_reported_and_exits_1_without_recording_a_new_release(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = FakeReleaseBackend(tags=ReleaseRecord(current=C, last_good=B).tags(), fail_deploy="policy violation")
    summary = repo / "summary.md"
    code = release(repo, backend, "rollback", "--stack", "prod", "--markdown-summary", str(summary))
    assert code == EXIT_DEPLOY_FAILED, "the workflow sees the failure"
    assert backend.tags[TAG_CURRENT] == C, "nothing claims the rollback landed"
    assert "FAILED" in summary.read_text() and "policy violation" in summary.read_text(), summary.read_text()
    assert "FAILED" in capsys.readouterr().out


def test_rollback_without_any_good_release_refuses_and_deploys_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = FakeReleaseBackend(tags={TAG_CURRENT: C})
    assert release(repo, backend, "rollback", "--stack", "prod") == EXIT_ERROR
    assert "no good release" in capsys.readouterr().err
    assert not [c for c in backend.calls if c[0] == "deploy"], backend.calls


@pytest.mark.parametrize("tag", ["latest", "", "a b", "../x"])
def test_rollback_refuses_a_mutable_or_malformed_tag(repo: Path, tag: str) -> None:
    backend = FakeReleaseBackend(tags=ReleaseRecord(current=C, last_good=B).tags())
    with pytest.raises(SystemExit) as exit_info:
        release(repo, backend, "rollback", "--stack", "prod", "--to", tag)
    assert exit_info.value.code == EXIT_ERROR, f"{tag!r} is refused as a usage error"
    assert backend.calls == [], "nothing was read or deployed"


def test_deployed_then_mark_good_builds_the_history_newest_first_and_bounded(repo: Path) -> None:
    backend = FakeReleaseBackend()
    tags = [f"v1.0.{n}" for n in range(GOOD_HISTORY + 2)]
    for tag in tags:
        assert release(repo, backend, "deployed", "--stack", "prod", "--tag", tag) == 0
        assert release(repo, backend, "mark-good", "--stack", "prod") == 0
    assert backend.tags[TAG_LAST_GOOD] == tags[-1], "the newest smoke-tested release is the last good one"
    history = backend.tags[TAG_HISTORY].split()
    assert history == list(reversed(tags))[:GOOD_HISTORY], f"newest first, at most {GOOD_HISTORY}: {history}"
    assert len(backend.tags[TAG_HISTORY]) <= 256, "stack tag values are capped at 256 characters"


def test_status_prints_the_record_as_json(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    backend = FakeReleaseBackend(tags=ReleaseRecord(current=C, last_good=B, good_history=(B,)).tags())
    assert release(repo, backend, "status", "--stack", "prod", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"current": C, "lastGood": B, "goodHistory": [B]}


@pytest.mark.parametrize(("environ", "needle"), [
    ({}, "PULUMI_BACKEND_URL"),
    ({"PULUMI_BACKEND_URL": "file:///tmp/state"}, "local file backend"),
])
def test_releases_refuse_a_missing_or_local_backend_unless_allowed(
    repo: Path, capsys: pytest.CaptureFixture[str], environ: dict[str, str], needle: str
) -> None:
    backend = FakeReleaseBackend(tags=ReleaseRecord(current=C, last_good=B).tags())
    assert release(repo, backend, "rollback", "--stack", "prod", environ=environ) == EXIT_ERROR
    assert needle in capsys.readouterr().err
    assert backend.calls == [], "no Pulumi call at all"
    allowed = {**environ, "PULUMI_BACKEND_URL": "file:///tmp/state", "ALLOW_LOCAL_BACKEND": "1"}
    assert release(repo, backend, "rollback", "--stack", "prod", environ=allowed) == 0, "explicitly allowed"


@pytest.mark.parametrize(("stack", "needle"), [("dev", "no releases"), ("prd", "unknown stack")])
def test_dev_and_unknown_stacks_have_no_releases(
    repo: Path, capsys: pytest.CaptureFixture[str], stack: str, needle: str
) -> None:
    backend = FakeReleaseBackend()
    assert release(repo, backend, "rollback", "--stack", stack) == EXIT_ERROR
    assert needle in capsys.readouterr().err and backend.calls == []


def test_a_malformed_record_counts_as_unknown() -> None:
    record = ReleaseRecord.from_tags({TAG_CURRENT: "latest", TAG_LAST_GOOD: "b c", TAG_HISTORY: "x latest y"})
    assert record == ReleaseRecord(good_history=("x", "y")), f"only valid tags survive: {record}"
