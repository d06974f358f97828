"""Every failure of the review command ends in one line and a non-zero exit; gc isolates each stack."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.harness import ROOT
from tests.review.fakes import FakeBackend
from tools.review.backend import TAG_EXPIRES_AT, TAG_PR, StackFileGuard, review_info_from_tags
from tools.review.cli import main
from tools.review.errors import ReviewError
from tools.review.model import ReviewInfo, StackSummary
from tools.review.ttl import parse_rfc3339, parse_ttl

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
SHA = "0123456789abcdef0123456789abcdef01234567"
OLD = NOW - timedelta(days=5)


def run(argv: list[str], backend: FakeBackend) -> int:
    return main(argv, backend_factory=backend.factory, clock=lambda: NOW, environ={})


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, f"no traceback reaches the user:\n{err}"
    assert lines, "the failure is reported"
    return lines[-1]


@pytest.mark.parametrize("ttl", ["99999999999999999999999d", "999999999999h", "91d"])
def test_a_huge_ttl_is_one_line_and_exit_2(ttl: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:  # a usage error, like every other bad option
        run(["up", "--pr", "1", "--image-tag", "abc", "--commit", SHA, "--ttl", ttl, "--cwd", str(tmp_path)],
            FakeBackend())
    err = capsys.readouterr().err
    assert caught.value.code == 2, f"--ttl {ttl} is refused"
    assert "must be at most 90d" in one_error_line(err), err
    assert len(err.strip().splitlines()) == 1, f"exactly one line: {err!r}"


@pytest.mark.parametrize(
    "text", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "garbage", "2025-13-01T00:00:00Z"]
)
def test_a_corrupted_expiry_tag_reads_as_unknown_instead_of_crashing(text: str) -> None:
    with pytest.raises(ReviewError):
        parse_rfc3339(text)
    info = review_info_from_tags({TAG_PR: "7", TAG_EXPIRES_AT: text})
    assert info == ReviewInfo(pr=7, commit=None, expires_at=None), f"{text!r} is unknown, the PR still reads"


def test_parse_ttl_still_takes_the_maximum() -> None:
    assert parse_ttl("90d") == timedelta(days=90), "90d is the documented maximum"
    assert parse_ttl("2160h") == timedelta(days=90), "the same maximum in hours"


@dataclass
class FlakyBackend(FakeBackend):
    """One stack's metadata cannot be read (a corrupted tag file, a backend hiccup)."""

    broken: str = ""

    def get_config(self, stack: str) -> ReviewInfo | None:
        if stack == self.broken:
            raise ValueError("tag file\nis corrupted")
        return super().get_config(stack)


def test_gc_isolates_a_stack_whose_metadata_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FlakyBackend(stacks=[StackSummary("review-pr-1", last_update=OLD),
                                StackSummary("review-pr-2", last_update=OLD)], broken="review-pr-1")
    code = run(["gc", "--ttl", "72h", "--cwd", str(tmp_path)], fake)
    err = capsys.readouterr().err
    assert ("destroy", "review-pr-2") in fake.calls, "the healthy stack is still collected"
    assert ("destroy", "review-pr-1") not in fake.calls, "the unreadable stack is left alone"
    assert code == 2, "a stack gc could not handle makes the run fail"
    assert "review gc: cannot read review-pr-1: tag file is corrupted" in err, f"one line per stack: {err}"
    assert one_error_line(err).endswith("review-pr-1"), err


def test_gc_skips_a_stack_that_is_being_updated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeBackend(stacks=[StackSummary("review-pr-1", last_update=OLD, update_in_progress=True),
                               StackSummary("review-pr-2", last_update=OLD)])
    code = run(["gc", "--ttl", "72h", "--open-prs", "", "--cwd", str(tmp_path)], fake)
    out = capsys.readouterr().out
    assert code == 0, "skipping a busy stack is not a failure"
    assert [c for c in fake.calls if c[0] == "destroy"] == [("destroy", "review-pr-2")], "the busy stack stays"
    assert "skipping review-pr-1 (an update is in progress)" in out, out


def test_an_unexpected_backend_exception_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class Broken(FakeBackend):
        def list_stacks(self) -> list[StackSummary]:
            raise RuntimeError("backend\nexploded")

    code = run(["list", "--cwd", str(tmp_path)], Broken())
    err = capsys.readouterr().err
    assert code == 2, "an unexpected error is still an error exit"
    assert err.strip() == "review: error: unexpected RuntimeError: backend exploded", err


HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tools.review.backend import StackFileGuard
    work = Path({work!r})
    with StackFileGuard(work, "review-pr-9"):
        (work / "Pulumi.review-pr-9.yaml").write_text("encryptionsalt: from-the-other-process\\n")
        print("locked", flush=True)
        sys.stdin.readline()
""")


def test_the_stack_file_guard_excludes_another_process(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER.format(root=str(ROOT), work=str(tmp_path))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked", "the holder has the lock"
        busy = r"another review command is using Pulumi\.review-pr-9\.yaml"
        with pytest.raises(ReviewError, match=busy), StackFileGuard(tmp_path, "review-pr-9", timeout=0.5):
            pass
        assert (tmp_path / "Pulumi.review-pr-9.yaml").exists(), "the waiting process did not touch the file"
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    assert holder.returncode == 0, "the holder finished cleanly"
    assert not (tmp_path / "Pulumi.review-pr-9.yaml").exists(), "the holder removed the file it created"
    with StackFileGuard(tmp_path, "review-pr-9", timeout=5):
        (tmp_path / "Pulumi.review-pr-9.yaml").write_text("mine\n")
    assert not (tmp_path / "Pulumi.review-pr-9.yaml").exists(), "after the holder, the guard works normally"
