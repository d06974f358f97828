"""The CLI drives a backend: right stack names and config, clean errors, gc that respects --dry-run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.review.fakes import FakeBackend
from tools.review.cli import COMMENT_MARKER, main
from tools.review.model import ReviewInfo, StackSummary

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
SHA = "0123456789abcdef0123456789abcdef01234567"


def run(argv: list[str], backend: FakeBackend, environ: dict[str, str] | None = None) -> int:
    return main(argv, backend_factory=backend.factory, clock=lambda: NOW, environ=environ or {})


def test_up_deploys_the_pr_stack_with_exactly_the_contract_config(tmp_path: Path) -> None:
    fake = FakeBackend()
    code = run(["up", "--pr", "123", "--image-tag", "abc123", "--commit", SHA, "--cwd", str(tmp_path)], fake)
    assert code == 0, "up succeeds"
    assert fake.calls == [("up", "review-pr-123")], "up targets review-pr-123 and nothing else"
    config = fake.configs["review-pr-123"]
    assert config.image_tag == "abc123", "the image tag is passed through"
    assert config.review_object() == {"pr": 123, "commit": SHA, "expiresAt": "2025-03-04T12:00:00Z"}, (
        "dreamscape:review carries the PR, the commit and a 72h default expiry"
    )


def test_up_honours_the_ttl_option(tmp_path: Path) -> None:
    fake = FakeBackend()
    run(
        ["up", "--pr", "5", "--image-tag", "t", "--commit", SHA, "--ttl", "90m", "--cwd", str(tmp_path)], fake
    )
    assert fake.configs["review-pr-5"].expires_at == NOW + timedelta(minutes=90), "expiry = now + ttl"


def test_up_streams_progress_and_prints_the_urls_at_the_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeBackend(outputs={"urls": {"web": "https://pr-7.review.example.com", "api": "https://api"}})
    run(["up", "--pr", "7", "--image-tag", "t", "--commit", SHA, "--cwd", str(tmp_path)], fake)
    out = capsys.readouterr().out
    assert "Updating (fake)" in out, "the backend's progress is streamed to stdout"
    assert out.rstrip().endswith("  web: https://pr-7.review.example.com"), "URLs come last, sorted by name"
    assert "  api: https://api" in out, "every URL is printed"


def test_up_writes_a_marked_markdown_summary_for_the_pr_comment(tmp_path: Path) -> None:
    fake = FakeBackend(outputs={"urls": {"web": "https://pr-7.example.com"}})
    summary = tmp_path / "comment.md"
    argv = ["up", "--pr", "7", "--image-tag", "t", "--commit", SHA, "--cwd", str(tmp_path)]
    run([*argv, "--markdown-summary", str(summary)], fake)
    body = summary.read_text(encoding="utf-8")
    assert body.startswith(COMMENT_MARKER), "the marker lets the workflow update its own comment"
    assert "- **web**: https://pr-7.example.com" in body, "the comment lists the URLs"


def test_up_uses_the_checked_out_commit_when_none_is_given(tmp_path: Path) -> None:
    fake = FakeBackend()
    code = run(["up", "--pr", "7", "--image-tag", "t", "--cwd", str(tmp_path)], fake)
    assert code == 2, "outside a git checkout there is no default commit"
    assert fake.calls == [], "nothing is deployed without a commit"


def test_destroy_destroys_then_removes_the_pr_stack(tmp_path: Path) -> None:
    fake = FakeBackend()
    assert run(["destroy", "--pr", "9", "--cwd", str(tmp_path)], fake) == 0, "destroy succeeds"
    assert fake.calls == [("destroy", "review-pr-9"), ("remove", "review-pr-9")], (
        "resources are destroyed first, then the stack's state is removed"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["up", "--pr", "PR 12", "--image-tag", "t"], "invalid PR id 'PR 12': expected a positive integer"),
        (["up", "--pr", "1", "--image-tag", "latest"], "invalid image tag 'latest'"),
        (["up", "--pr", "1", "--image-tag", "t", "--ttl", "3x"], "invalid TTL '3x'"),
        (["up", "--pr", "1", "--image-tag", "t", "--commit", "main"], "invalid commit 'main'"),
        (["up", "--image-tag", "t"], "the following arguments are required: --pr"),
        (["destroy", "--pr", "0"], "invalid PR id '0'"),
        (["gc"], "the following arguments are required: --ttl"),
        (["gc", "--ttl", "1h", "--open-prs", "1", "--open-prs-file", "x"], "not allowed with argument"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_argument_errors_print_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeBackend()
    with pytest.raises(SystemExit) as caught:
        run(argv, fake)
    err = capsys.readouterr().err
    assert caught.value.code == 2, "usage errors exit with code 2"
    assert message in err, f"stderr explains the problem: {err!r}"
    assert err.count("\n") == 1, "exactly one line, no usage dump and no traceback"
    assert fake.calls == [], "nothing reaches the backend"


def test_backend_errors_print_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeBackend(fail_destroy={"review-pr-3"})
    code = run(["destroy", "--pr", "3", "--cwd", str(tmp_path)], fake)
    err = capsys.readouterr().err
    assert code == 2, "a failed operation exits 2"
    assert err == "review: error: pulumi destroy of stack review-pr-3 failed: boom\n", "one clear line"
    assert ("remove", "review-pr-3") not in fake.calls, "a stack whose destroy failed is not removed"


def test_a_missing_cwd_is_reported_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["list", "--cwd", str(tmp_path / "nope")], FakeBackend())
    assert code == 2, "bad --cwd exits 2"
    assert "is not a directory" in capsys.readouterr().err, "and says why"


def test_the_backend_url_defaults_to_local_state_in_the_repository(tmp_path: Path) -> None:
    fake = FakeBackend()
    run(["list", "--cwd", str(tmp_path)], fake)
    assert fake.settings is not None, "the factory received settings"
    assert fake.settings.backend_url == (tmp_path.resolve() / ".pulumi-state").as_uri(), (
        "file://<repo>/.pulumi-state"
    )
    assert fake.settings.secrets_provider == "passphrase", "passphrase is the default secrets provider"


def test_the_backend_url_comes_from_the_environment_then_the_option(tmp_path: Path) -> None:
    fake = FakeBackend()
    env = {"PULUMI_BACKEND_URL": "s3://state-bucket"}
    run(["list", "--cwd", str(tmp_path)], fake, environ=env)
    assert fake.settings is not None and fake.settings.backend_url == "s3://state-bucket", "env is used"
    run(["list", "--cwd", str(tmp_path), "--backend-url", "file:///srv/state"], fake, environ=env)
    assert fake.settings.backend_url == "file:///srv/state", "--backend-url wins over the environment"


def test_list_shows_only_review_stacks_with_their_expiry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeBackend(
        stacks=[
            StackSummary("prod", last_update=NOW),
            StackSummary("review-pr-4", last_update=NOW, resource_count=31),
        ],
        info={"review-pr-4": ReviewInfo(pr=4, expires_at=NOW + timedelta(days=3))},
    )
    assert run(["list", "--cwd", str(tmp_path)], fake) == 0, "list succeeds"
    out = capsys.readouterr().out
    assert "review-pr-4" in out and "2025-03-04T12:00:00Z" in out, "the review stack and its expiry are shown"
    assert "prod" not in out, "non-review stacks are not listed"


def gc_fake() -> FakeBackend:
    return FakeBackend(
        stacks=[
            StackSummary("prod", last_update=NOW - timedelta(days=100)),
            StackSummary("review-pr-1", last_update=NOW - timedelta(days=5)),
            StackSummary("review-pr-2", last_update=NOW),
            StackSummary("review-pr-3", last_update=NOW),
        ]
    )


def test_gc_destroys_and_removes_only_the_selected_stacks(tmp_path: Path) -> None:
    fake = gc_fake()
    code = run(["gc", "--ttl", "72h", "--open-prs", "1,2", "--cwd", str(tmp_path)], fake)
    assert code == 0, "gc succeeds"
    destroyed = [call for call in fake.calls if call[0] in {"destroy", "remove"}]
    assert destroyed == [
        ("destroy", "review-pr-1"),
        ("remove", "review-pr-1"),
        ("destroy", "review-pr-3"),
        ("remove", "review-pr-3"),
    ], "pr-1 is too old, pr-3 is closed; pr-2 and prod are untouched"


def test_gc_dry_run_only_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = gc_fake()
    code = run(["gc", "--ttl", "72h", "--open-prs", "1,2", "--dry-run", "--cwd", str(tmp_path)], fake)
    out = capsys.readouterr().out
    assert code == 0, "dry run succeeds"
    assert fake.calls == [("list_stacks",)], "a dry run never destroys or removes"
    assert "would destroy review-pr-1" in out and "would destroy review-pr-3 (PR #3 is not open)" in out, (
        "the dry run says what it would do and why"
    )


def test_gc_reads_open_prs_from_gh_json(tmp_path: Path) -> None:
    prs = tmp_path / "open.json"
    prs.write_text('[{"number": 1}, {"number": 3}]', encoding="utf-8")
    fake = gc_fake()
    run(["gc", "--ttl", "30d", "--open-prs-file", str(prs), "--cwd", str(tmp_path)], fake)
    assert [c for c in fake.calls if c[0] == "destroy"] == [("destroy", "review-pr-2")], (
        "only closed PR 2 goes"
    )


def test_gc_keeps_going_after_a_failure_and_then_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = gc_fake()
    fake.fail_destroy = {"review-pr-1"}
    code = run(["gc", "--ttl", "72h", "--open-prs", "1,2", "--cwd", str(tmp_path)], fake)
    err = capsys.readouterr().err
    assert code == 2, "a partial failure is an error"
    assert ("destroy", "review-pr-3") in fake.calls, "one failure does not stop the others"
    assert err.strip().endswith("review: error: gc could not destroy 1 stack(s): review-pr-1"), "summary line"


def test_gc_without_open_prs_uses_age_only(tmp_path: Path) -> None:
    fake = gc_fake()
    run(["gc", "--ttl", "72h", "--cwd", str(tmp_path)], fake)
    assert [c for c in fake.calls if c[0] == "destroy"] == [("destroy", "review-pr-1")], "only the old one"


def test_gc_reports_an_unreadable_open_pr_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        ["gc", "--ttl", "1h", "--open-prs-file", str(tmp_path / "missing"), "--cwd", str(tmp_path)], gc_fake()
    )
    assert code == 2, "missing file exits 2"
    assert "cannot read open PR file" in capsys.readouterr().err, "and says which file"
