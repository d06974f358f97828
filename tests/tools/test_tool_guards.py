"""Every tool fails on one line, never with a traceback, and never acts on the wrong stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.tools.fakes import FakeRunner
from tests.tools.test_smoke import outputs as smoke_outputs
from tools import build_context, dev_db, reset, restore_postgres
from tools.runner import Command, CommandError, SubprocessRunner
from tools.smoke import cli as smoke
from tools.stack_guard import StackGuardError, inside

NO_TOOLS = SubprocessRunner(environ={"PATH": "/nonexistent"})
"""The real runner on a machine where docker, kubectl and pulumi are not installed."""


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, f"no traceback:\n{err}"
    assert len(err.strip().splitlines()) == 1, f"exactly one line:\n{err}"
    return err


def test_a_missing_program_is_a_command_error_naming_it() -> None:
    with pytest.raises(CommandError, match=r"`docker` is not installed or not on PATH"):
        NO_TOOLS.run(Command(("docker", "ps")))
    with pytest.raises(CommandError, match=r"`kubectl` is not installed"):
        NO_TOOLS.start(Command(("kubectl", "port-forward", "svc/minio", "19000:9000")))


def test_an_unwritable_output_file_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot run"):
        SubprocessRunner().run(Command(("true",), stdout=tmp_path / "missing-dir" / "out"))


def test_reset_without_docker_says_so_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert reset.main(["soft"], runner=NO_TOOLS) == 1, "a clear failure, not a crash"
    assert "`docker` is not installed" in one_line_error(capsys)


def test_dev_db_without_docker_says_so_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dev_db.main(["dump", str(tmp_path / "x.dump")], runner=NO_TOOLS) == 1
    assert "`docker` is not installed" in one_line_error(capsys)


@pytest.mark.parametrize("stack", ["prod", "review-pr-7"])
def test_dev_db_refuses_stacks_that_are_not_dev(stack: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    runner = FakeRunner()
    assert dev_db.main(["dump", str(tmp_path / "x.dump"), "--stack", stack], runner=runner) == 2
    assert runner.commands == [], "nothing runs against a Kubernetes stack"
    assert "targets kubernetes" in one_line_error(capsys)


def test_dev_db_refuses_a_stack_name_that_would_leave_the_backups_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    runner = FakeRunner()
    assert dev_db.main(["dump", "--stack", "../../etc/x"], runner=runner) == 2
    assert runner.commands == [] and not (tmp_path / "backups").exists(), "nothing is written"
    one_line_error(capsys)


def test_the_postgres_restore_refuses_dev(capsys: pytest.CaptureFixture[str]) -> None:
    runner = FakeRunner()
    assert restore_postgres.main(["--list", "--stack", "dev"], runner=runner) == 2
    assert runner.commands == [] and runner.started == [], "no port-forward, no kubectl"
    assert "targets docker" in one_line_error(capsys)


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_build_context_exits_non_zero_on_a_root_that_is_not_a_directory(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    if kind == "file":
        root.write_text("not a directory")
    assert build_context.main([str(root)]) == 2
    assert str(root) in one_line_error(capsys)


def test_build_context_reports_an_unreadable_ignore_file_on_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".dockerignore").mkdir()  # a directory where the ignore file should be
    (tmp_path / "ignore").write_bytes(b"\xff\xfe")
    assert build_context.main([str(tmp_path), "--ignore-file", str(tmp_path / "ignore")]) == 1
    one_line_error(capsys)


def test_smoke_refuses_outputs_of_another_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = tmp_path / "outputs.json"
    prod = {**smoke_outputs(8080, 5432, 6379, 9000), "environment": "prod", "target": "kubernetes"}
    outputs.write_text(json.dumps(prod))
    runner = FakeRunner()
    assert smoke.main(["--stack", "dev", "--outputs", str(outputs)], runner=runner) == 2
    assert runner.commands == [] and runner.started == [], "no check runs against the wrong stack"
    assert "are those of stack 'prod'" in capsys.readouterr().out


def test_smoke_with_a_missing_outputs_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--stack", "dev", "--outputs", str(tmp_path / "none.json")], runner=FakeRunner()) == 2
    assert "does not exist" in capsys.readouterr().out


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../x"])
def test_an_output_path_never_leaves_its_folder(path: str, tmp_path: Path) -> None:
    with pytest.raises(StackGuardError):
        inside(tmp_path, Path(path))
    assert inside(tmp_path, Path("a/b.dump")) == tmp_path / "a" / "b.dump"


@pytest.mark.parametrize("stack", ["../escape", "/etc", "Prod"])
def test_render_manifests_writes_nothing_outside_its_folder(stack: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from tools import render_manifests

    out = tmp_path / "out"
    assert render_manifests.main([str(out), "--stack", stack]) == 2
    assert not any(tmp_path.iterdir()), "nothing is written for a stack name that is not one"
    one_line_error(capsys)
