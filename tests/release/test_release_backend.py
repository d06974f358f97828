"""The release backend calls the Automation API correctly, without ever running the Pulumi CLI.

`pulumi.automation` entry points are replaced by recording fakes; the real module is still imported, so a
renamed or removed API breaks these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tools.release.backend import AutomationBackend, BackendSettings
from tools.release.errors import ReleaseError

STACK_FILE = "encryptionsalt: v1:team\nconfig:\n  dreamscape:target: kubernetes\n"


class FakeStack:
    def __init__(self, work_dir: Path, log: list[tuple[str, Any]]) -> None:
        self.work_dir, self.log = work_dir, log

    def set_config(self, key: str, value: auto.ConfigValue) -> None:
        self.log.append(("set_config", (key, value.value, value.secret)))
        path = self.work_dir / "Pulumi.prod.yaml"
        path.write_text(path.read_text() + f"  {key}: {value.value}\n")

    def set_tag(self, key: str, value: str) -> None:
        self.log.append(("set_tag", (key, value)))

    def up(self, **kwargs: Any) -> None:
        self.log.append(("up", {k: v for k, v in kwargs.items() if k != "on_output"}))
        kwargs["on_output"]("Updating\n")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    log: list[tuple[str, Any]] = []

    def select_stack(stack_name: str, *, work_dir: str, opts: auto.LocalWorkspaceOptions) -> FakeStack:
        log.append(("select_stack", {"stack": stack_name, "env": dict(opts.env_vars or {})}))
        return FakeStack(Path(work_dir), log)

    class FakeWorkspace:
        def __init__(self, **kwargs: Any) -> None:
            log.append(("workspace", {"env": dict(kwargs["env_vars"])}))

        def list_tags(self, stack_name: str) -> dict[str, str]:
            return {"dreamscape:release:current": "abc"}

    monkeypatch.setattr(auto, "select_stack", select_stack)
    monkeypatch.setattr(auto, "LocalWorkspace", FakeWorkspace)
    return log


@pytest.fixture
def backend(tmp_path: Path) -> AutomationBackend:
    (tmp_path / "Pulumi.prod.yaml").write_text(STACK_FILE)
    return AutomationBackend(BackendSettings(work_dir=tmp_path, backend_url="s3://state"))


def test_deploy_sets_the_image_tag_and_runs_up_with_the_policy_pack_leaving_the_stack_file_as_it_was(
    backend: AutomationBackend, calls: list[tuple[str, Any]]
) -> None:
    streamed: list[str] = []
    backend.deploy("prod", "b" * 40, streamed.append)
    kinds = [kind for kind, _ in calls]
    assert kinds == ["select_stack", "set_config", "up"], f"select (never create), set, up: {kinds}"
    assert calls[0][1]["env"]["PULUMI_BACKEND_URL"] == "s3://state", "the shared backend is used"
    assert calls[1][1] == ("dreamscape:imageTag", "b" * 40, False), "the release's image tag is deployed"
    assert calls[2][1]["policy_packs"] == [str(backend.settings.work_dir / "policy")], "with the policy pack"
    assert streamed == ["Updating\n"], "progress is streamed"
    assert (backend.settings.work_dir / "Pulumi.prod.yaml").read_text() == STACK_FILE, "tracked file restored"


def test_tags_are_read_from_the_workspace_and_written_on_the_selected_stack(
    backend: AutomationBackend, calls: list[tuple[str, Any]]
) -> None:
    assert backend.read_tags("prod") == {"dreamscape:release:current": "abc"}
    backend.write_tags("prod", {"dreamscape:release:lastGood": "abc"})
    assert ("set_tag", ("dreamscape:release:lastGood", "abc")) in calls, calls


def test_a_failed_update_becomes_a_one_line_release_error(
    backend: AutomationBackend, calls: list[tuple[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_up(self: FakeStack, **_kwargs: Any) -> None:
        raise auto.CommandError(auto.CommandResult("", "error: policy violations\n", 255))

    monkeypatch.setattr(FakeStack, "up", failing_up)
    with pytest.raises(ReleaseError, match="pulumi up of stack prod failed: policy violations"):
        backend.deploy("prod", "v1.0.0", lambda _line: None)
    assert (backend.settings.work_dir / "Pulumi.prod.yaml").read_text() == STACK_FILE, "restored on failure too"


def test_a_missing_stack_is_reported_not_created(monkeypatch: pytest.MonkeyPatch, backend: AutomationBackend) -> None:
    def missing(*_args: Any, **_kwargs: Any) -> Any:
        raise auto.StackNotFoundError(auto.CommandResult("", "no stack named prod", 255))

    monkeypatch.setattr(auto, "select_stack", missing)
    with pytest.raises(ReleaseError, match="does not exist"):
        backend.deploy("prod", "v1.0.0", lambda _line: None)
