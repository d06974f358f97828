"""The pack's Pulumi project file points at the virtualenv the repository's own command creates."""

from __future__ import annotations

import re

import yaml

from tests.harness import ROOT


def test_the_packs_virtualenv_is_the_one_scripts_venv_sh_policy_creates() -> None:
    text = (ROOT / "policy" / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    virtualenv = yaml.safe_load(text)["runtime"]["options"]["virtualenv"]
    script = (ROOT / "scripts" / "venv.sh").read_text(encoding="utf-8")
    match = re.search(r"--policy\) dir=(\S+);", script)
    assert match and match.group(1) == f"policy/{virtualenv}", (
        f"PulumiPolicy.yaml's virtualenv {virtualenv!r} (relative to policy/) is what venv.sh --policy creates"
    )
    assert "scripts/venv.sh --policy" in text, "its comment names the command that creates it"
