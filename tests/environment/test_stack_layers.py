"""Stack names the program accepts, and the layers that decide a stack's values (defaults, profile, stack)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.config import ConfigError, load, loader
from tests.harness import OPERATOR_SECRETS, config_bag, evaluate, refuse
from tests.kube import kube_objects, manifest

REVIEW = {"pr": 7, "commit": "1a2b3c4d", "expiresAt": "2030-01-01T00:00:00Z"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
UNALERTED = {"withoutReceivers": "a layering test: nobody reads its alerts"}
"""A stack that protects its data names an alert receiver or the reason it has none."""


@pytest.fixture
def stack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory of our own for stack files, so tests never write into the checkout."""
    for committed in ROOT_STACK_FILES:
        (tmp_path / committed.name).write_bytes(committed.read_bytes())
    monkeypatch.setattr(loader, "STACK_DIR", tmp_path)
    return tmp_path


ROOT_STACK_FILES = sorted(loader.ROOT.glob("Pulumi.*.yaml"))


@pytest.mark.parametrize(
    "stack",
    ["review-pr_1", "review-", "Prod", "review-pr-1-", "review-" + "a" * 34, "dev.local", "-dev"],
)
def test_a_stack_name_that_cannot_name_a_namespace_or_host_is_refused_before_anything_exists(stack: str) -> None:
    refusal = refuse(stack, {"review": REVIEW} if stack.startswith("review-") else {})
    assert f"stack {stack!r}" in refusal.message, f"the stack name is named as the problem:\n{refusal.message}"
    assert refusal.registered == [], "nothing is registered for a refused stack name"


def test_the_longest_review_stack_name_still_renders_valid_namespaces() -> None:
    stack = "review-" + "a" * (loader.MAX_STACK_NAME - len("review-"))
    evaluation = evaluate(stack, {"review": REVIEW})
    names = [manifest(r)["metadata"]["name"] for r in kube_objects(evaluation) if r.inputs["kind"] == "Namespace"]
    assert len(names) >= 2, f"the environment and node-agents namespaces are rendered: {names}"
    for name in names:
        assert len(name) <= 63 and DNS_LABEL.match(name), f"namespace {name!r} is an RFC 1123 label"


def test_an_unknown_stack_without_a_stack_file_is_refused_instead_of_getting_prod_defaults() -> None:
    refusal = refuse("staging")
    assert "unknown stack 'staging'" in refusal.message, refusal.message
    assert "Pulumi.staging.yaml" in refusal.message, f"the message says what to create:\n{refusal.message}"
    assert refusal.registered == [], "no Traefik config or anything else is registered"


def test_a_new_stack_with_its_own_stack_file_is_accepted(stack_dir: Path) -> None:
    (stack_dir / "Pulumi.staging.yaml").write_text("config:\n  dreamscape:kubernetes:\n    namespace: dreamscape-stg\n")
    config = load("staging", config_bag("staging", {"kubernetes": {"namespace": "dreamscape-stg"},
                                                    "alerting": UNALERTED}))
    assert config.kubernetes.namespace == "dreamscape-stg", "a stack with a file is a known stack"


def test_an_explicit_review_value_equal_to_the_project_default_beats_the_profile(stack_dir: Path) -> None:
    (stack_dir / "Pulumi.review-pr-7.yaml").write_text(
        "config:\n  dreamscape:protectData: true\n  dreamscape:kafka:\n    retentionHours: 168\n"
    )
    bag = config_bag("review-pr-7", {"protectData": True, "kafka": {"retentionHours": 168}, "review": REVIEW,
                                     "alerting": UNALERTED})
    config = load("review-pr-7", bag)
    assert config.protect_data is True, "protectData: true set by the stack wins over the profile's false"
    assert config.kafka.retention_hours == 168, "a nested value equal to the default still wins"
    assert config.kafka.brokers == 1, "fields the stack does not set still come from the profile"


def test_an_explicit_protect_data_on_a_review_stack_protects_its_stateful_resources(stack_dir: Path) -> None:
    (stack_dir / "Pulumi.review-pr-7.yaml").write_text("config:\n  dreamscape:protectData: true\n")
    evaluation = evaluate("review-pr-7", {"protectData": True, "review": REVIEW, "alerting": UNALERTED})
    protected = [r.name for r in evaluation.resources if r.options["protect"]]
    assert protected, "the stack's protectData: true reaches the resources"


def test_without_a_stack_file_the_review_profile_applies(stack_dir: Path) -> None:
    config = load("review-pr-7", config_bag("review-pr-7", {"review": REVIEW}))
    assert config.protect_data is False, "the profile's protectData: false applies when the stack sets nothing"


def test_a_secret_set_in_the_stack_file_is_taken_from_the_decrypted_bag(stack_dir: Path) -> None:
    (stack_dir / "Pulumi.review-pr-7.yaml").write_text(
        "config:\n  dreamscape:alerting:\n    slackWebhook:\n      secure: v1:AAAA\n"
    )
    bag = config_bag("review-pr-7", {"alerting": {"slackWebhook": "https://hooks.slack.com/services/T/B/x"},
                                     "review": REVIEW})
    config = load("review-pr-7", bag, secret_keys=["dreamscape:alerting"])
    webhook = config.alerting.slack_webhook
    assert webhook is not None and webhook.get_secret_value().startswith("https://hooks"), "decrypted value used"


def test_the_review_block_is_refused_on_prod() -> None:
    with pytest.raises(ConfigError, match=r"dreamscape:review: the review block belongs to 'review-<id>' stacks"):
        load("prod", config_bag("prod", {"review": REVIEW}))


def test_a_namespace_that_leaves_no_room_for_the_node_agents_suffix_is_refused() -> None:
    namespace = "n" * 52
    with pytest.raises(ConfigError, match=r"dreamscape:kubernetes.namespace: .* is 64 characters") as caught:
        load("prod", config_bag("prod", {"kubernetes": {"namespace": namespace}}))
    assert "at most 51" in str(caught.value), f"the message says the real limit: {caught.value}"
    load("prod", config_bag("prod", {"kubernetes": {"namespace": "n" * 51}}),
         secret_keys=[f"dreamscape:{key}" for key in OPERATOR_SECRETS["prod"]])


def test_a_review_host_over_253_characters_is_refused() -> None:
    label = "d" * 60
    domain = ".".join([label] * 4) + ".com"  # 248 characters: valid alone, too long under app.<id>.
    with pytest.raises(ConfigError, match=r"dreamscape:domain: the host .* characters; a DNS name"):
        load("review-pr-7", config_bag("review-pr-7", {"domain": domain, "review": REVIEW}))


def test_stack_name_and_field_problems_arrive_in_one_message() -> None:
    refusal = refuse("Staging", {"kafka": {"brokers": 0}})
    assert "3 problem(s)" in refusal.message, f"bad name, unknown stack, bad field: {refusal.message}"
    assert "stack 'Staging'" in refusal.message and "dreamscape:kafka.brokers" in refusal.message, refusal.message


def test_the_review_tool_and_the_program_agree_on_the_longest_stack_name() -> None:
    from tools.review import naming

    assert naming.MAX_STACK_NAME_LENGTH == loader.MAX_STACK_NAME, "the tool never creates a stack the program refuses"
    longest = naming.stack_name(10 ** (loader.MAX_STACK_NAME - len("review-pr-") - 1))
    assert loader.stack_name_problems(longest) == [], f"the tool's longest name {longest!r} is accepted"
