"""Alert receivers are validated when the stack config loads, before anything is registered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import evaluate, refuse

EMAIL = {"to": "ops@example.com", "from": "alerts@example.com", "smarthost": "smtp.example.com:587"}


@pytest.mark.parametrize(("alerting", "complaint"), [
    ({"email": {**EMAIL, "smarthost": "smtp.example.com"}}, "must be host:port"),
    ({"email": {**EMAIL, "smarthost": "smtp.example.com:99999"}}, "must be host:port"),
    ({"email": {**EMAIL, "to": "ops"}}, "is not an email address"),
    ({"email": {**EMAIL, "username": "alerts", "password": " "}}, "password must not be empty"),
    ({"slackWebhook": "http://hooks.slack.com/services/T0/B0/XSECRETX"}, "https:// URL"),
    ({"slackWebhook": "hooks.slack.com/services/T0/B0/XSECRETX"}, "https:// URL"),
    ({"pagerdutyRoutingKey": "  "}, "must not be empty"),
    ({"slackWebhook": "https://hooks.slack.com/services/T0/B0/XSECRETX", "slackChannel": ""}, "must not be empty"),
])
def test_a_receiver_alertmanager_would_crash_or_drop_alerts_on_is_refused_at_load(
    alerting: dict[str, Any], complaint: str
) -> None:
    refusal = refuse("dev", {"alerting": alerting})
    assert complaint in refusal.message, f"the refusal says what is wrong: {refusal.message}"
    assert "XSECRETX" not in refusal.message, "a refused secret is never echoed back"
    assert refusal.registered == [], "refused before any resource is registered"


def test_valid_receivers_are_accepted() -> None:
    alerting = {"email": {**EMAIL, "username": "alerts", "password": "pw"},
                "slackWebhook": "https://hooks.slack.com/services/T0/B0/abc", "pagerdutyRoutingKey": "R0UT1NGKEY"}
    evaluation = evaluate("dev", {"alerting": alerting}, secret_keys=["dreamscape:alerting"])
    assert evaluation.resources, "a valid alerting section (from secret config) deploys"


def test_prod_without_a_receiver_is_refused_before_anything_is_registered() -> None:
    refusal = refuse("prod", {"alerting": {}})
    assert "dreamscape:alerting: stack 'prod' is prod and sets no alert receiver" in refusal.message, (
        f"the refusal names the key and the stack: {refusal.message}")
    assert "alerting.withoutReceivers" in refusal.message, f"the refusal names the way out: {refusal.message}"
    assert refusal.registered == [], "refused before any resource is registered"


def test_a_stack_that_protects_its_data_needs_a_receiver_too() -> None:
    refusal = refuse("dev", {"protectData": True, "alerting": {}})
    expected = "stack 'dev' protects its data (protectData: true) and sets no alert receiver"
    assert expected in refusal.message, f"the refusal names why this stack needs one: {refusal.message}"


def test_prod_may_opt_out_of_alert_delivery_only_with_a_reason() -> None:
    evaluation = evaluate("prod", {"alerting": {"withoutReceivers": "pre-launch: nobody is on call yet"}})
    alertmanager = next(s for s in evaluation.services if s.name == "alertmanager")
    assert not alertmanager.container.secret_files, "the opt-out configures no receiver integrations"


@pytest.mark.parametrize(("alerting", "complaint"), [
    ({"withoutReceivers": "  "}, "withoutReceivers must give the reason"),
    ({"withoutReceivers": "pre-launch", "pagerdutyRoutingKey": "R0UT1NGKEY"},
     "withoutReceivers opts out of alert delivery, but pagerdutyRoutingKey is set"),
])
def test_an_empty_or_contradicted_opt_out_is_refused(alerting: dict[str, Any], complaint: str) -> None:
    refusal = refuse("prod", {"alerting": alerting})
    assert complaint in refusal.message, f"the refusal says what is wrong: {refusal.message}"
    assert refusal.registered == [], "refused before any resource is registered"
