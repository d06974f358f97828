"""alertmanager.yml: critical alerts page (PagerDuty) and go to chat; warnings go to chat and email.

Routing, by the `severity` every rule sets (components.monitoring.prometheus.rules):
- `severity="critical"` -> receiver `critical`: PagerDuty and Slack. Without PagerDuty it falls back to
  email too, so a critical alert never has fewer channels than a warning;
- `severity="warning"` (and anything unlabelled, the root) -> receiver `warning`: Slack and email.
Each integration is optional here; a receiver without integrations is valid and drops what it gets, which
is why the config refuses prod (and any stack with protectData) without one unless it gives the reason
(`alerting.withoutReceivers`).

Inhibition, so one fault pages once:
- `NodeDown` silences every other alert of the same node (`environment`, `node`);
- `ServiceDown` silences the other alerts of the same process (`environment`, `pod`, `service`);
- a critical alert silences the warning of the same name and process.

Secrets are never inlined: Slack's webhook URL, PagerDuty's routing key and the SMTP password are read
from files (`api_url_file`, `routing_key_file`, `auth_password_file`).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.monitoring import labels
from components.monitoring._yaml import dump_yaml

CRITICAL_RECEIVER = "critical"
WARNING_RECEIVER = "warning"
CRITICAL_MATCHER = 'severity="critical"'
WARNING_MATCHER = 'severity="warning"'


@dataclass(frozen=True)
class AlertmanagerPaths:
    """Where the Alertmanager container expects its config, secret files and data."""

    config_file: str = "/etc/alertmanager/alertmanager.yml"
    slack_api_url_file: str = "/run/secrets/alertmanager/slack-api-url"
    pagerduty_routing_key_file: str = "/run/secrets/alertmanager/pagerduty-routing-key"
    smtp_password_file: str = "/run/secrets/alertmanager/smtp-password"
    data_dir: str = "/alertmanager"


@dataclass(frozen=True)
class EmailReceiver:
    to: str
    sender: str
    smarthost: str
    """host:port of the SMTP relay."""
    auth_username: str | None = None
    auth_password_file: str | None = None
    require_tls: bool = True

    def __post_init__(self) -> None:
        if (self.auth_username is None) != (self.auth_password_file is None):
            raise ValueError("auth_username and auth_password_file go together")


@dataclass(frozen=True)
class SlackReceiver:
    api_url_file: str
    channel: str = "#dreamscape-alerts"


@dataclass(frozen=True)
class PagerDutyReceiver:
    routing_key_file: str


@dataclass(frozen=True)
class AlertmanagerArgs:
    email: EmailReceiver | None = None
    slack: SlackReceiver | None = None
    pagerduty: PagerDutyReceiver | None = None
    group_by: tuple[str, ...] = ("alertname", "environment", "pod", "service")
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


def _email(email: EmailReceiver) -> dict[str, object]:
    config: dict[str, object] = {
        "to": email.to,
        "from": email.sender,
        "smarthost": email.smarthost,
        "require_tls": email.require_tls,
        "send_resolved": True,
    }
    if email.auth_username is not None:
        config["auth_username"] = email.auth_username
        config["auth_password_file"] = email.auth_password_file
    return config


def _slack(slack: SlackReceiver) -> dict[str, object]:
    return {
        "api_url_file": slack.api_url_file,
        "channel": slack.channel,
        "send_resolved": True,
        "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }})",
        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n{{ end }}",
    }


def _inhibitions() -> list[dict[str, object]]:
    process = [labels.ENVIRONMENT, labels.POD, labels.SERVICE]
    return [
        {"source_matchers": ['alertname="NodeDown"'], "target_matchers": ['alertname!="NodeDown"'],
         "equal": [labels.ENVIRONMENT, labels.NODE]},
        {"source_matchers": ['alertname="ServiceDown"'], "target_matchers": ['alertname!="ServiceDown"'],
         "equal": process},
        {"source_matchers": [CRITICAL_MATCHER], "target_matchers": [WARNING_MATCHER],
         "equal": ["alertname", *process]},
    ]


def alertmanager_config(args: AlertmanagerArgs) -> dict[str, object]:
    critical: dict[str, object] = {"name": CRITICAL_RECEIVER}
    warning: dict[str, object] = {"name": WARNING_RECEIVER}
    if args.pagerduty is not None:
        critical["pagerduty_configs"] = [{"routing_key_file": args.pagerduty.routing_key_file, "send_resolved": True}]
    if args.slack is not None:
        critical["slack_configs"] = [_slack(args.slack)]
        warning["slack_configs"] = [_slack(args.slack)]
    if args.email is not None:
        warning["email_configs"] = [_email(args.email)]
        if args.pagerduty is None:
            critical["email_configs"] = [_email(args.email)]
    route: dict[str, object] = {
        "receiver": WARNING_RECEIVER,
        "group_by": list(args.group_by),
        "group_wait": args.group_wait,
        "group_interval": args.group_interval,
        "repeat_interval": args.repeat_interval,
        "routes": [
            {"receiver": CRITICAL_RECEIVER, "matchers": [CRITICAL_MATCHER]},
            {"receiver": WARNING_RECEIVER, "matchers": [WARNING_MATCHER]},
        ],
    }
    return {"route": route, "inhibit_rules": _inhibitions(), "receivers": [critical, warning]}


def render_alertmanager_config(args: AlertmanagerArgs) -> str:
    return dump_yaml(alertmanager_config(args))


def alertmanager_cli_flags(config_file: str, data_dir: str, retention: str = "120h") -> list[str]:
    """Container args for the Alertmanager image."""
    return [f"--config.file={config_file}", f"--storage.path={data_dir}", f"--data.retention={retention}"]
