"""The Automation API backend builds the right config, env and calls, without ever running the CLI.

`pulumi.automation` entry points are replaced by recording fakes; the real module is still imported, so
a renamed or removed API breaks these tests.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tools.review.backend import (
    DELETE_UNREACHABLE_ENV,
    AutomationBackend,
    BackendSettings,
    StackFileGuard,
    check_secrets_available,
    config_json,
    local_state_dir,
    plain_outputs,
    review_info_from_tags,
    review_tags,
    summarize_command_error,
    workspace_env,
)
from tools.review.errors import ReviewError
from tools.review.model import ReviewConfig, ReviewInfo

SHA = "0123456789abcdef0123456789abcdef01234567"
EXPIRES = datetime(2025, 3, 4, 12, 0, 0, tzinfo=UTC)
CONFIG = ReviewConfig(image_tag="abc123", pr=123, commit=SHA, expires_at=EXPIRES)
PASSPHRASE = {"PULUMI_CONFIG_PASSPHRASE": "test"}


def settings(tmp_path: Path) -> BackendSettings:
    return BackendSettings(work_dir=tmp_path, backend_url=(tmp_path / ".pulumi-state").as_uri())


class FakeStack:
    def __init__(self, name: str, work_dir: Path, log: list[tuple[str, Any]]) -> None:
        self.name, self.work_dir, self.log = name, work_dir, log

    def set_all_config_json(self, config_json: str) -> None:
        self.log.append(("set_all_config_json", json.loads(config_json)))
        (self.work_dir / f"Pulumi.{self.name}.yaml").write_text("config: {}\n", encoding="utf-8")

    def set_tag(self, key: str, value: str) -> None:
        self.log.append(("set_tag", (key, value)))

    def up(self, **kwargs: Any) -> Any:
        self.log.append(("up", kwargs))
        kwargs["on_output"]("Updating\n")
        urls = auto.OutputValue({"web": "https://pr-123.example.com"}, False)
        return type("Result", (), {"outputs": {"urls": urls, "token": auto.OutputValue("s3cr3t", True)}})()

    def destroy(self, **kwargs: Any) -> None:
        self.log.append(("destroy", kwargs))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, Any]]:
    log: list[tuple[str, Any]] = []

    def open_stack(kind: str) -> Any:
        def fake(stack_name: str, *, work_dir: str, opts: auto.LocalWorkspaceOptions) -> FakeStack:
            log.append((kind, {"stack": stack_name, "work_dir": work_dir, "env": dict(opts.env_vars or {})}))
            return FakeStack(stack_name, Path(work_dir), log)

        return fake

    class FakeWorkspace:
        def __init__(self, **kwargs: Any) -> None:
            log.append(("workspace", {"env": dict(kwargs["env_vars"]), "work_dir": kwargs["work_dir"]}))

        def remove_stack(self, stack_name: str) -> None:
            log.append(("remove_stack", stack_name))

        def list_stacks(self) -> list[auto.StackSummary]:
            return [
                auto.StackSummary("review-pr-1", False, last_update=datetime(2025, 3, 1), resource_count=3)
            ]

        def list_tags(self, stack_name: str) -> dict[str, str]:
            return review_tags(CONFIG)

    monkeypatch.setattr(auto, "create_or_select_stack", open_stack("create_or_select_stack"))
    monkeypatch.setattr(auto, "select_stack", open_stack("select_stack"))
    monkeypatch.setattr(auto, "LocalWorkspace", FakeWorkspace)
    return log


def test_the_backend_module_imports_the_automation_api_names_it_uses() -> None:
    for name in (
        "create_or_select_stack",
        "select_stack",
        "LocalWorkspace",
        "LocalWorkspaceOptions",
        "CommandError",
        "StackNotFoundError",
        "ConcurrentUpdateError",
        "OutputValue",
    ):
        assert hasattr(auto, name), f"pulumi.automation provides {name}"
    assert callable(auto.Stack.set_all_config_json), "the installed SDK can set config from JSON"
    assert callable(auto.Stack.set_tag), "the installed SDK can set stack tags"


def test_config_json_sets_the_image_tag_and_the_review_object() -> None:
    document = json.loads(config_json(CONFIG))
    assert set(document) == {"dreamscape:imageTag", "dreamscape:review"}, "only the two contract keys"
    assert document["dreamscape:imageTag"] == {"value": "abc123", "secret": False}, "plain string tag"
    review = document["dreamscape:review"]
    expected = {"pr": 123, "commit": SHA, "expiresAt": "2025-03-04T12:00:00Z"}
    assert review["objectValue"] == expected, "the review is an object, pr an int, expiry RFC 3339 UTC"
    assert json.loads(review["value"]) == expected, "value holds the same object as JSON text"


def test_an_all_digit_commit_stays_a_string() -> None:
    config = ReviewConfig(image_tag="t", pr=1, commit="1234567", expires_at=EXPIRES)
    review = json.loads(config_json(config))["dreamscape:review"]["objectValue"]
    assert review["commit"] == "1234567", "no type guessing turns the sha into a number"


def test_destroy_env_allows_deleting_from_an_unreachable_cluster(tmp_path: Path) -> None:
    env = workspace_env(settings(tmp_path), delete_unreachable=True)
    assert env[DELETE_UNREACHABLE_ENV] == "true", "destroy must succeed when the cluster is gone"
    assert env["PULUMI_BACKEND_URL"] == (tmp_path / ".pulumi-state").as_uri(), "the backend is explicit"
    up_env = workspace_env(settings(tmp_path), delete_unreachable=False)
    assert DELETE_UNREACHABLE_ENV not in up_env, "up never silently drops unreachable resources"


def test_workspace_options_carry_work_dir_env_and_secrets_provider(tmp_path: Path) -> None:
    backend = AutomationBackend(settings(tmp_path), environ=PASSPHRASE)
    opts = backend.workspace_options(delete_unreachable=True)
    assert opts.work_dir == str(tmp_path), "the program is the repository root"
    assert opts.secrets_provider == "passphrase", "passphrase provider by default"
    assert (opts.env_vars or {}).get(DELETE_UNREACHABLE_ENV) == "true", "env reaches the workspace"


def test_the_passphrase_provider_requires_a_passphrase() -> None:
    with pytest.raises(ReviewError, match="PULUMI_CONFIG_PASSPHRASE"):
        check_secrets_available("passphrase", {})
    check_secrets_available("passphrase", {"PULUMI_CONFIG_PASSPHRASE": ""})  # empty is a valid passphrase
    check_secrets_available("passphrase", {"PULUMI_CONFIG_PASSPHRASE_FILE": "/run/pass"})
    check_secrets_available("awskms://alias/x", {})
    assert True, "only the passphrase provider without any passphrase source is refused"


def test_only_file_backends_get_a_local_state_directory(tmp_path: Path) -> None:
    assert local_state_dir((tmp_path / "s").as_uri()) == tmp_path / "s", "file:// maps to a directory"
    assert local_state_dir("s3://bucket/state") is None, "remote backends have none"


def test_tags_round_trip_to_review_info() -> None:
    info = review_info_from_tags(review_tags(CONFIG))
    assert info == ReviewInfo(pr=123, commit=SHA, expires_at=EXPIRES), "gc can read back what up wrote"
    assert review_info_from_tags({"pulumi:project": "dreamscape"}) is None, "no review tags, no info"
    broken = review_info_from_tags({"dreamscape:review:expiresAt": "soon"})
    assert broken == ReviewInfo(), "malformed tags are unknown rather than fatal"


def test_secret_outputs_are_masked() -> None:
    outputs = plain_outputs({"a": auto.OutputValue(1, False), "b": auto.OutputValue("x", True)})
    assert outputs == {"a": 1, "b": "[secret]"}, "secrets are never returned in plain text"


def test_the_stack_file_guard_deletes_new_files_and_restores_existing_ones(tmp_path: Path) -> None:
    existing = tmp_path / "Pulumi.review-pr-1.json"
    existing.write_bytes(b'{"config": {}}')
    with StackFileGuard(tmp_path, "review-pr-1"):
        (tmp_path / "Pulumi.review-pr-1.yaml").write_text("encryptionsalt: x\n", encoding="utf-8")
        existing.write_text("changed", encoding="utf-8")
    assert not (tmp_path / "Pulumi.review-pr-1.yaml").exists(), "a file the run created is removed"
    assert existing.read_bytes() == b'{"config": {}}', "a file that was there gets its exact bytes back"


def test_up_sets_config_and_tags_then_streams_and_leaves_no_stack_file(
    tmp_path: Path, calls: list[tuple[str, Any]]
) -> None:
    streamed: list[str] = []
    outputs = AutomationBackend(settings(tmp_path), environ=PASSPHRASE).up(
        "review-pr-123", CONFIG, streamed.append
    )
    kinds = [kind for kind, _ in calls]
    assert kinds[:2] == ["create_or_select_stack", "set_all_config_json"], "select, then set all config"
    assert calls[0][1]["stack"] == "review-pr-123" and calls[0][1]["work_dir"] == str(tmp_path), "repo root"
    assert DELETE_UNREACHABLE_ENV not in calls[0][1]["env"], "up keeps the normal delete behaviour"
    assert calls[1][1] == json.loads(config_json(CONFIG)), "the contract config is set"
    assert kinds.index("set_tag") < kinds.index("up"), "tags are written before the update can fail"
    assert streamed == ["Updating\n"], "progress is streamed through on_output"
    assert outputs == {"urls": {"web": "https://pr-123.example.com"}, "token": "[secret]"}, "plain outputs"
    assert list(tmp_path.glob("Pulumi.*")) == [], "no Pulumi.<stack>.yaml is left in the repository"
    assert (tmp_path / ".pulumi-state").is_dir(), "the local state directory is created"


def test_destroy_selects_with_delete_unreachable_and_remove_drops_the_stack(
    tmp_path: Path, calls: list[tuple[str, Any]]
) -> None:
    backend = AutomationBackend(settings(tmp_path), environ=PASSPHRASE)
    backend.destroy("review-pr-123", lambda _line: None)
    backend.remove("review-pr-123")
    assert calls[0][0] == "select_stack", "destroy never creates a stack"
    assert calls[0][1]["env"][DELETE_UNREACHABLE_ENV] == "true", "destroy tolerates a vanished cluster"
    assert calls[1][0] == "destroy", "resources are destroyed"
    assert ("remove_stack", "review-pr-123") in calls, "then the stack state is removed"


def test_destroy_of_a_missing_stack_is_a_no_op(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def missing(*_args: Any, **_kwargs: Any) -> Any:
        raise auto.StackNotFoundError(
            auto.CommandResult("", "error: no stack named 'review-pr-1' found", 255)
        )

    monkeypatch.setattr(auto, "select_stack", missing)
    lines: list[str] = []
    AutomationBackend(settings(tmp_path), environ=PASSPHRASE).destroy("review-pr-1", lines.append)
    assert lines == ["stack review-pr-1 does not exist; nothing to destroy\n"], "closing a PR twice is fine"


def test_cli_failures_become_one_line_review_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def failing(*_args: Any, **_kwargs: Any) -> Any:
        raise auto.CommandError(auto.CommandResult("", "warning: x\nerror: cluster unreachable\n", 255))

    monkeypatch.setattr(auto, "create_or_select_stack", failing)
    with pytest.raises(ReviewError) as caught:
        AutomationBackend(settings(tmp_path), environ=PASSPHRASE).up("review-pr-1", CONFIG, print)
    assert str(caught.value) == "pulumi up of stack review-pr-1 failed: cluster unreachable", "one line"


def test_a_missing_pulumi_cli_is_reported_plainly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def no_cli(*_args: Any, **_kwargs: Any) -> Any:
        raise FileNotFoundError(2, "No such file or directory", "pulumi")

    monkeypatch.setattr(auto, "LocalWorkspace", no_cli)
    with pytest.raises(ReviewError, match=r"Pulumi CLI .* is not on PATH"):
        AutomationBackend(settings(tmp_path), environ=PASSPHRASE).list_stacks()


def test_list_and_get_config_read_summaries_and_tags(tmp_path: Path, calls: list[tuple[str, Any]]) -> None:
    backend = AutomationBackend(settings(tmp_path), environ=PASSPHRASE)
    [summary] = backend.list_stacks()
    assert (summary.name, summary.resource_count) == ("review-pr-1", 3), "summaries are converted"
    assert backend.get_config("review-pr-1") == ReviewInfo(pr=123, commit=SHA, expires_at=EXPIRES), (
        "tags read"
    )


def test_summaries_of_command_errors_fall_back_to_the_exit_code() -> None:
    error = auto.CommandError(auto.CommandResult("", "something odd", 7))
    assert summarize_command_error(error) == "the Pulumi CLI exited with code: 7", "no error: line"
