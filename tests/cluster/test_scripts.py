"""The remote scripts as the cluster stack sends them: strict POSIX sh, shellcheck-clean, values quoted."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from components.cluster import scripts
from components.cluster.paths import NodePaths
from tests.cluster import sample
from tests.harness import Evaluation, evaluate
from tests.tooling import require_tool


@pytest.fixture(scope="module")
def sent() -> dict[str, str]:
    """Every script the cluster stack hands pulumi-command, by resource name, unwrapped from `sh -c`."""
    evaluation: Evaluation = evaluate(sample.STACK, sample.overrides(), secret_keys=sample.SECRET_KEYS)
    commands = evaluation.of_type("command:remote:Command")
    assert len(commands) == 5 * 3 + 1, "drain, install and uncordon per node, and the kubeconfig read"
    unwrapped = {}
    for command in commands:
        words = shlex.split(command.inputs["create"])
        assert words[:2] == ["sh", "-c"] and len(words) == 3, f"{command.name} runs one script under sh: {words}"
        unwrapped[command.name] = words[2]
    return unwrapped


def test_every_script_is_strict(sent: dict[str, str]) -> None:
    loose = [name for name, script in sent.items() if not script.startswith("set -eu\n")]
    assert not loose, f"scripts that would carry on after a failure or an unset variable: {loose}"


@pytest.mark.tools
def test_every_script_passes_shellcheck(sent: dict[str, str]) -> None:
    shellcheck = require_tool("shellcheck")
    findings = {}
    for name, script in sorted(sent.items()):
        done = subprocess.run([shellcheck, "--shell=sh", "--severity=style", "-"], input=script,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            findings[name] = done.stdout
    assert not findings, "shellcheck findings:\n" + "\n".join(f"{n}:\n{out}" for n, out in findings.items())


def test_other_users_run_the_script_as_root_through_sudo() -> None:
    line = scripts.remote_command("set -eu\necho 'hi'\n", "deploy")
    assert shlex.split(line) == ["sudo", "-n", "sh", "-c", "set -eu\necho 'hi'\n"], line


def test_paths_are_data_never_code(tmp_path: Path) -> None:
    # A path that would run a command if it were spliced in unquoted.
    marker = tmp_path / "executed"
    paths = NodePaths().under(str(tmp_path / f"$(touch {marker})`touch {marker}`"))
    done = subprocess.run(["sh", "-c", scripts.drain("server-1", paths)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), "the path was executed: a value reached the shell unquoted"
