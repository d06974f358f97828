"""`python -m tools.restore_drill` runs the restore job now, waits, and reports: checked with a stub kubectl on
PATH (the real subprocess runner), so the exact commands, the waiting and the one-line errors are what an
operator gets."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools.restore_drill import main
from tools.runner import SubprocessRunner

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 4, 19, 0, 0, tzinfo=UTC)
JOB = "postgres-restore-verify-drill-20261204190000"

STUB = """#!/bin/sh
# A stand-in kubectl: records its arguments, answers `get job` from a list of states, one per call.
printf '%s\\n' "$*" >> "$STUB_DIR/calls"
case "$3" in
  create) echo "job.batch/$5 created" ;;
  get)
    n=$(wc -l < "$STUB_DIR/calls")
    sed -n "$((n - 1))p" "$STUB_DIR/states" ;;
  logs) cat "$STUB_DIR/log" ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
"""


def stub_runner(tmp_path: Path, states: list[str], log: str) -> SubprocessRunner:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(STUB)
    (bin_dir / "kubectl").chmod(0o755)
    # Line k of `states` answers the k-th `get` (the first call is `create`).
    (tmp_path / "states").write_text("".join(f"{s}\n" for s in states))
    (tmp_path / "log").write_text(log)
    return SubprocessRunner({**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "STUB_DIR": str(tmp_path)})


def calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls").read_text().splitlines()


def test_a_passing_drill_starts_the_job_from_the_cronjob_waits_and_prints_the_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = stub_runner(tmp_path, ["/", "/", "1/"], "restore-verify: verified: dreamscape 12 2026-12-04\n")
    sleeps: list[float] = []
    assert main(["--stack", "prod", "--poll", "3"], runner=runner, sleep=sleeps.append, now=lambda: NOW) == 0
    assert calls(tmp_path) == [
        f"--namespace dreamscape-prod create job {JOB} --from=cronjob/postgres-restore-verify",
        *[f"--namespace dreamscape-prod get job {JOB} --output jsonpath={{.status.succeeded}}/{{.status.failed}}"] * 3,
        f"--namespace dreamscape-prod logs job/{JOB}",
    ], "the scheduled job's own template, in the stack's namespace, polled until it finished"
    assert sleeps == [3.0, 3.0], "waits between looks, not after the last"
    out = capsys.readouterr().out
    assert "verified: dreamscape 12" in out, "the job's log is shown"
    assert out.rstrip().endswith(f"restore verified (job {JOB} in dreamscape-prod)"), out


def test_a_failed_drill_exits_1_with_the_jobs_last_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = stub_runner(tmp_path, ["/1"], "restoring\nrestore-verify: FAILED: the check query failed\n")
    assert main(["--stack", "prod"], runner=runner, sleep=lambda _: None, now=lambda: NOW) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "FAILED: the check query failed" in err, f"one line with the cause: {err!r}"


def test_a_drill_that_does_not_finish_in_time_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = stub_runner(tmp_path, ["/"] * 50, "")
    elapsed = [0.0]

    def sleep(seconds: float) -> None:
        elapsed[0] += seconds

    code = main(["--stack", "prod", "--timeout", "1", "--poll", "20"], runner=runner, sleep=sleep,
                now=lambda: NOW, clock=lambda: elapsed[0])
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not finish within 1 minutes" in err, err
    looks = [c for c in calls(tmp_path) if " get job " in c]
    assert len(looks) == 4, "looked at 0, 20, 40 and 60 seconds, then gave up"


def test_dev_and_bad_arguments_are_refused_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "dev"]) == 2
    assert "targets docker" in capsys.readouterr().err
    assert main(["--stack", "prod", "--timeout", "0"]) == 2
    assert "greater than zero" in capsys.readouterr().err


def test_a_missing_kubectl_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = SubprocessRunner({**os.environ, "PATH": str(tmp_path)})
    assert main(["--stack", "prod"], runner=runner, now=lambda: NOW) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`kubectl` is not installed or not on PATH" in err, err


def test_help_documents_the_drill() -> None:
    done = subprocess.run([sys.executable, "-m", "tools.restore_drill", "--help"], capture_output=True, text=True,
                          cwd=ROOT, check=False, timeout=60)
    assert done.returncode == 0 and "--from=cronjob/postgres-restore-verify" in done.stdout, done.stdout
    assert "--timeout MINUTES" in done.stdout and "--stack" in done.stdout
