"""alertmanager.yml: optional receivers, PagerDuty only for critical, secrets only as files."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.alertmanager.config import (
    AlertmanagerArgs,
    EmailReceiver,
    PagerDutyReceiver,
    SlackReceiver,
    render_alertmanager_config,
)
from tests.tooling import require_tool


def _all_receivers(base: Path) -> AlertmanagerArgs:
    secrets = {name: base / name for name in ("smtp-password", "slack-api-url", "pagerduty-routing-key")}
    for path in secrets.values():
        path.write_text("placeholder-for-tests\n")
    return AlertmanagerArgs(
        email=EmailReceiver(
            "devops@dreamscape.ai",
            "alerts@dreamscape.ai",
            "smtp.example.org:587",
            "alerts",
            str(secrets["smtp-password"]),
        ),
        slack=SlackReceiver(str(secrets["slack-api-url"])),
        pagerduty=PagerDutyReceiver(str(secrets["pagerduty-routing-key"])),
    )


def _load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_without_receivers_everything_goes_to_a_null_receiver() -> None:
    config = _load(render_alertmanager_config(AlertmanagerArgs()))
    assert config["route"]["receiver"] == "null", "the root route needs a receiver even with no integrations"
    assert config["receivers"] == [{"name": "null"}], "the null receiver has no integrations"


def test_pagerduty_receives_only_critical_alerts(tmp_path: Path) -> None:
    config = _load(render_alertmanager_config(_all_receivers(tmp_path)))
    routes = config["route"]["routes"]
    pagerduty = [r for r in routes if r["receiver"] == "pagerduty"]
    assert pagerduty == [{"receiver": "pagerduty", "matchers": ['severity="critical"'], "continue": True}], (
        "PagerDuty must be matched on severity=critical only"
    )


def test_secrets_are_referenced_by_file_and_never_inlined(tmp_path: Path) -> None:
    text = render_alertmanager_config(_all_receivers(tmp_path))
    for key in ("auth_password_file", "api_url_file", "routing_key_file"):
        assert f"{key}:" in text, f"{key} must reference the mounted secret"
    for key in ("auth_password:", "api_url:", "routing_key:", "service_key:"):
        assert key not in text, f"{key} would inline a secret"
    assert "placeholder-for-tests" not in text, "secret contents must never reach the config"


def test_email_auth_username_without_a_password_file_is_rejected() -> None:
    with pytest.raises(ValueError, match="go together"):
        EmailReceiver("a@b.c", "x@b.c", "smtp:587", auth_username="alerts")


@pytest.mark.tools
@pytest.mark.parametrize("receivers", ["none", "all"])
def test_amtool_accepts_the_config(tmp_path: Path, receivers: str) -> None:
    amtool = require_tool("amtool")
    args = AlertmanagerArgs() if receivers == "none" else _all_receivers(tmp_path)
    config = tmp_path / "alertmanager.yml"
    config.write_text(render_alertmanager_config(args))
    result = subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"amtool rejects the config ({receivers}):\n{result.stdout}{result.stderr}"


@pytest.mark.tools
@pytest.mark.parametrize(("severity", "expected"), [("critical", "pagerduty,team"), ("warning", "team")])
def test_amtool_routes_critical_alerts_to_pagerduty_and_the_team(
    tmp_path: Path, severity: str, expected: str
) -> None:
    amtool = require_tool("amtool")
    config = tmp_path / "alertmanager.yml"
    config.write_text(render_alertmanager_config(_all_receivers(tmp_path)))
    result = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            f"severity={severity}",
            "alertname=X",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"amtool routes test failed:\n{result.stdout}{result.stderr}"
    assert result.stdout.strip() == expected, (
        f"severity={severity} must reach {expected}, got {result.stdout!r}"
    )
