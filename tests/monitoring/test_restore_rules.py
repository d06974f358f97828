"""The last verified restore is a series of its own, and its age alert stays quiet while restores pass.

The job's success is the CronJob's last success (kube-state-metrics); the rules record it as
`dreamscape_backup_last_verified_restore_timestamp_seconds` and alert when it is older than the configured age,
or when the job never succeeded. These cases check the recorded value and the quiet side, which the firing
cases in test_rules_fire.py cannot.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.prometheus.rules import LAST_VERIFIED_RESTORE, RestoreCheck, RulesArgs, render_alert_rules
from tests.tooling import require_tool

JOB = "postgres-restore-verify"
KSM = {"job": "kube-state-metrics", "namespace": "dreamscape", "cronjob": JOB}
RULES = RulesArgs(restore_checks=(RestoreCheck(cronjob=JOB, max_age_hours=24),))


def _series(metric: str, labels: dict[str, str]) -> str:
    return metric + "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _run(tmp_path: Path, tests: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    promtool = require_tool("promtool")
    (tmp_path / "rules.yml").write_text(render_alert_rules(RULES))
    (tmp_path / "test.yml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}, sort_keys=False))
    return subprocess.run([promtool, "test", "rules", "test.yml"], capture_output=True, text=True, check=False,
                          cwd=tmp_path, timeout=120)


def test_rules_only_for_configured_restore_jobs() -> None:
    groups = yaml.safe_load(render_alert_rules(RulesArgs()))["groups"]
    names = {rule.get("record") or rule.get("alert") for group in groups for rule in group["rules"]}
    assert not names & {LAST_VERIFIED_RESTORE, "RestoreVerificationTooOld", "RestoreNeverVerified"}, (
        "a stack without a restore job records and alerts nothing about one")


@pytest.mark.tools
def test_the_recorded_time_is_the_jobs_last_success_and_a_recent_one_stays_quiet(tmp_path: Path) -> None:
    result = _run(tmp_path, [{
        "interval": "1m",
        "input_series": [
            # Verified an hour before promtool's start, well within the 24 hours allowed.
            {"series": _series("kube_cronjob_status_last_successful_time", KSM), "values": "-3600x60"},
            {"series": _series("kube_cronjob_created", KSM), "values": "-900000x60"},
        ],
        "promql_expr_test": [{"expr": LAST_VERIFIED_RESTORE, "eval_time": "5m",
                              "exp_samples": [{"labels": _series(LAST_VERIFIED_RESTORE, KSM), "value": -3600}]}],
        "alert_rule_test": [
            {"eval_time": "60m", "alertname": "RestoreVerificationTooOld", "exp_alerts": []},
            {"eval_time": "60m", "alertname": "RestoreNeverVerified", "exp_alerts": []},
        ],
    }])
    assert result.returncode == 0, f"recorded value or quiet alerts wrong:\n{result.stdout}{result.stderr}"


@pytest.mark.tools
def test_a_new_job_is_not_reported_as_never_verified_before_its_age_has_passed(tmp_path: Path) -> None:
    result = _run(tmp_path, [{
        "interval": "1m",
        # Created an hour ago, no success yet: its first run may not even have been due.
        "input_series": [{"series": _series("kube_cronjob_created", KSM), "values": "-3600x60"}],
        "alert_rule_test": [{"eval_time": "60m", "alertname": "RestoreNeverVerified", "exp_alerts": []}],
    }])
    assert result.returncode == 0, f"a young job alerted:\n{result.stdout}{result.stderr}"
