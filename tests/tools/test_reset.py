"""Reset levels of a Docker stack, driven through a fake runner (no daemon, no Pulumi CLI)."""

from __future__ import annotations

from pathlib import Path

from tests.tools.fakes import FakeRunner
from tools.reset import ROOT, main

PS = ("docker", "ps")
VOLUMES = ("docker", "volume", "ls")


def run(argv: list[str], runner: FakeRunner, answer: str = "") -> int:
    return main(argv, runner=runner, confirm=lambda _prompt: answer)


def test_soft_restarts_only_the_stacks_running_containers_and_keeps_data() -> None:
    runner = FakeRunner(answers={PS: "abc\ndef\n"})
    assert run(["soft"], runner) == 0
    assert runner.argvs() == [
        ("docker", "ps", "--quiet", "--filter", "label=dreamscape.io/stack=dev"),
        ("docker", "restart", "abc", "def"),
    ], "containers are found by the stack label and restarted; nothing is removed"


def test_hard_destroys_the_stack_through_the_pulumi_wrapper_and_keeps_volumes() -> None:
    runner = FakeRunner()
    assert run(["hard"], runner) == 0
    assert runner.argvs() == [(str(ROOT / "scripts" / "pulumi.sh"), "destroy", "dev")], "no volume is touched"


def test_nuclear_refuses_without_the_typed_stack_name_and_changes_nothing() -> None:
    runner = FakeRunner()
    assert run(["nuclear"], runner, answer="yes") == 1, "only the stack's name confirms"
    assert runner.commands == [], "a refused nuclear reset runs no command at all"


def test_nuclear_removes_only_volumes_labelled_with_this_stack() -> None:
    listing = "dreamscape-dev-postgres-0-data\tdev\ndreamscape-other-postgres-0-data\tother\n"
    runner = FakeRunner(answers={VOLUMES: listing})
    assert run(["nuclear"], runner, answer="dev") == 0
    argvs = runner.argvs()
    assert argvs[0][1:] == ("destroy", "dev"), "first the hard reset"
    assert argvs[1] == ("docker", "volume", "ls", "--filter", "label=dreamscape.io/stack=dev", "--format",
                        '{{.Name}}\t{{.Label "dreamscape.io/stack"}}')
    assert argvs[2] == ("docker", "volume", "rm", "dreamscape-dev-postgres-0-data"), (
        "another stack's volume is never removed, even if a listing returned it")


def test_nuclear_takes_a_flag_instead_of_the_prompt_for_ci() -> None:
    runner = FakeRunner(answers={VOLUMES: "v1\tdev\n"})
    assert main(["nuclear", "--yes-destroy-all-data"], runner=runner, confirm=None) == 0
    assert ("docker", "volume", "rm", "v1") in runner.argvs()


def test_a_failed_destroy_stops_the_nuclear_reset_before_any_volume_goes() -> None:
    runner = FakeRunner(fail={(str(ROOT / "scripts" / "pulumi.sh"),)})
    assert run(["nuclear", "--yes-destroy-all-data"], runner) == 1
    assert not [a for a in runner.argvs() if a[:2] == ("docker", "volume")]


def test_kubernetes_stacks_are_refused(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  dreamscape:target: kubernetes\n")
    runner = FakeRunner()
    assert main(["nuclear", "--stack", "prod", "--yes-destroy-all-data"], runner=runner, root=tmp_path) == 1
    assert runner.commands == []


def test_make_reset_runs_the_tool_with_the_level() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "\nreset:" in makefile and "python -m tools.reset $(LEVEL) --stack $(STACK)" in makefile
