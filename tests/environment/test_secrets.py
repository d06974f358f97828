"""Every password, key and token stays a Pulumi secret end to end."""

from __future__ import annotations

import yaml

from components.secret_catalog import SECRET_KINDS
from tests.harness import Evaluation, evaluate, walk_plain

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


def test_every_secret_kind_is_generated_by_pulumi_random(stack: Evaluation) -> None:
    names = {r.name for r in stack.of_type(RANDOM_PASSWORD)}
    assert names == {f"secrets-{k.name}" for k in SECRET_KINDS}, "one generator per secret kind"
    assert len(stack.generated_secrets) == len(SECRET_KINDS), "each generator yields a distinct value"


def test_no_generated_secret_travels_in_plain_text_in_any_resource_input(stack: Evaluation) -> None:
    leaks = []
    for resource in stack.resources:
        for path, leaf in walk_plain(resource.wire):
            if isinstance(leaf, str) and any(secret in leaf for secret in stack.generated_secrets):
                leaks.append(f"{resource.type} {resource.name}{path}")
    assert not leaks, f"secret values outside secret markers: {leaks}"


def test_secrets_are_actually_delivered_somewhere(stack: Evaluation) -> None:
    # Guards the test above: if no secret reached any resource, "no leaks" would prove nothing.
    delivered = {s for s in stack.generated_secrets for r in stack.resources if s in str(r.inputs)}
    assert len(delivered) >= 4, "postgres, app, redis and minio secrets reach their services"


def test_every_output_that_carries_a_secret_is_a_secret_output(stack: Evaluation) -> None:
    for key, export in stack.outputs.items():
        carries = any(s in str(export.value) for s in stack.generated_secrets)
        assert not carries or export.secret, f"output {key} carries a secret but is not marked secret"
    assert stack.outputs["postgresUrl"].secret and stack.outputs["redisUrl"].secret, "connection strings are secret"


def test_generators_only_change_when_their_generation_is_bumped(dev: Evaluation) -> None:
    rotated = evaluate("dev", {"secretRotation": {"redis": 1}})
    before = {r.name: r.inputs["keepers"] for r in dev.of_type(RANDOM_PASSWORD)}
    after = {r.name: r.inputs["keepers"] for r in rotated.of_type(RANDOM_PASSWORD)}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"secrets-redis"}, f"only the rotated secret's keepers change, got {changed}"


def test_passwords_are_long_and_free_of_characters_that_need_escaping(stack: Evaluation) -> None:
    for resource in stack.of_type(RANDOM_PASSWORD):
        assert resource.inputs["length"] >= 32, f"{resource.name} is at least 32 characters"
        assert resource.inputs["special"] is False, f"{resource.name} is URL- and config-safe"


def test_prod_protects_the_generators_and_dev_does_not(dev: Evaluation, prod: Evaluation) -> None:
    assert all(r.options["protect"] for r in prod.of_type(RANDOM_PASSWORD)), "prod secrets are protected"
    assert not any(r.options["protect"] for r in dev.of_type(RANDOM_PASSWORD)), "dev can be reset"


ALERTING = {
    "alerting": {
        "email": {"to": "ops@example.com", "from": "alerts@example.com", "smarthost": "smtp.example.com:587",
                  "username": "alerts", "password": "ALERTSECRET-smtp-password"},
        "slackWebhook": "https://hooks.slack.com/services/ALERTSECRET-slack",
        "pagerdutyRoutingKey": "ALERTSECRET-pagerduty",
    }
}
ALERTING_IS_SECRET = ("dreamscape:alerting",)
"""Receiver credentials are accepted only from secret config."""


def test_alerting_receiver_secrets_never_travel_in_plain_text() -> None:
    for stack in ("dev", "prod"):
        evaluation = evaluate(stack, ALERTING, secret_keys=ALERTING_IS_SECRET)
        delivered = [r for r in evaluation.resources if "ALERTSECRET" in str(r.inputs)]
        assert delivered, f"{stack}: the receiver secrets reach Alertmanager"
        leaks = [f"{r.type} {r.name}{path}" for r in evaluation.resources for path, leaf in walk_plain(r.wire)
                 if isinstance(leaf, str) and "ALERTSECRET" in leaf]
        assert not leaks, f"{stack}: receiver secrets outside secret markers: {leaks}"


def test_alerting_receivers_with_secrets_stay_out_of_config_maps() -> None:
    evaluation = evaluate("prod", ALERTING, secret_keys=ALERTING_IS_SECRET)
    maps = [r.name for r in evaluation.resources
            if r.type == "kubernetes:core/v1:ConfigMap" and "alertmanager" in r.name]
    assert not maps, f"alertmanager.yml carries email settings from secret config, so no ConfigMap: {maps}"
    secrets = [r for r in evaluation.resources
               if r.type == "kubernetes:core/v1:Secret" and r.name == "alertmanager-secrets"]
    files = set(secrets[0].inputs["stringData"]) if secrets else set()
    expected = {"alertmanager-slack-api-url", "alertmanager-pagerduty-routing-key", "alertmanager-smtp-password"}
    assert expected <= files, f"each receiver secret is its own file, got {sorted(files)}"
    config = yaml.safe_load(secrets[0].inputs["stringData"]["etc-alertmanager-alertmanager.yml"])
    names = {r["name"]: sorted(k for k in r if k != "name") for r in config["receivers"]}
    assert names == {"critical": ["pagerduty_configs", "slack_configs"],
                     "warning": ["email_configs", "slack_configs"]}, (
        f"critical pages and chats, warning chats and mails; got {names}")
