"""The prod restore validates the dump name and restores into the database and role the stack configures."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from components.config import loader
from tests.tools.fakes import FakeRunner
from tools import restore_postgres

MC_CONFIG = json.dumps({"version": "10", "aliases": {"backup": {
    "url": "http://minio:9000", "accessKey": "dreamscape-backup", "secretKey": "KEY123"}}})


def answering_runner(namespace: str) -> FakeRunner:
    return FakeRunner(answers={("kubectl", "--namespace", namespace, "get"):
                               base64.b64encode(MC_CONFIG.encode()).decode()})


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../../etc/passwd", "backups/x.dump", "a..dump", ".hidden.dump", "x y.dump", "-rf"]
)
def test_a_dump_name_that_is_a_path_is_refused_in_one_line_before_any_command(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = FakeRunner()
    try:
        code = restore_postgres.main([name, "--yes"], runner=runner, wait=lambda: None)
    except SystemExit as exit_:  # "-rf" reads as an option: a usage error, also one line
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 2, f"{name!r} is refused"
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, f"one line: {err!r}"
    assert runner.commands == [] and runner.started == [], "nothing ran"


def test_the_restore_uses_the_database_role_namespace_and_bucket_the_stack_configures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Pulumi.shop.yaml").write_text(
        "config:\n"
        "  dreamscape:postgres: {database: shop, appUser: shop_app}\n"
        "  dreamscape:kubernetes: {namespace: shop-prod}\n"
        "  dreamscape:backup: {bucket: shop-backups}\n"
    )
    monkeypatch.setattr(loader, "STACK_DIR", tmp_path)
    runner = answering_runner("shop-prod")
    name = "dreamscape-20250101T020005Z.dump"
    assert restore_postgres.main([name, "--stack", "shop", "--yes"], runner=runner, wait=lambda: None) == 0
    _get, download, pg_restore = runner.commands
    assert download.argv[2] == f"backup/shop-backups/postgres/{name}", "the configured bucket"
    assert pg_restore.argv[:3] == ("kubectl", "--namespace", "shop-prod"), "the configured namespace"
    assert pg_restore.argv[12:14] == ("-d", "shop"), f"the configured database: {pg_restore.argv}"
    assert "--role=shop_app" in pg_restore.argv, f"the configured app role: {pg_restore.argv}"


def test_an_unknown_stack_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = restore_postgres.main(["x.dump", "--stack", "staging", "--yes"], runner=FakeRunner())
    err = capsys.readouterr().err
    assert code == 2 and "unknown stack 'staging'" in err, err
    assert len(err.strip().splitlines()) == 1, f"one line: {err!r}"


def test_an_unexpected_failure_is_one_line_and_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    class Exploding(FakeRunner):
        def run(self, command: object) -> str:
            raise OSError("kubectl\nvanished")

    code = restore_postgres.main(["--list"], runner=Exploding(), wait=lambda: None)
    err = capsys.readouterr().err
    assert code == 1, "a failure is a non-zero exit"
    assert err.strip() == "error: unexpected OSError: kubectl vanished", err


def test_a_closed_stdin_at_the_confirmation_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def no_answer(_question: str) -> str:
        raise EOFError

    code = restore_postgres.main(["x.dump"], runner=FakeRunner(), confirm=no_answer)
    err = capsys.readouterr().err
    assert code == 1 and "pass --yes" in err and len(err.strip().splitlines()) == 1, err
