"""Base images are pinned by digest, and the update bot (Renovate) covers every pinned dependency:
the base image where it is written and where it is rendered, the Actions, the Python lock files and npm."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components.pods.render import dockerfile
from tests.harness import ROOT

RENOVATE = ROOT / ".github" / "renovate.json"
DOCKERFILES = sorted((ROOT / "images").glob("*/Dockerfile"))
DIGEST_PINNED = re.compile(r"^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")


def config() -> dict[str, Any]:
    data = json.loads(RENOVATE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _python_regex(pattern: str) -> re.Pattern[str]:
    """Renovate's patterns are ECMAScript: `/.../` file patterns and `(?<name>...)` groups."""
    return re.compile(pattern.removeprefix("/").removesuffix("/").replace("(?<", "(?P<"))


def _matches(patterns: list[str], path: Path) -> bool:
    relative = str(path.relative_to(ROOT))
    return any(_python_regex(pattern).search(relative) for pattern in patterns)


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_from_is_a_digest_pinned_image_or_an_earlier_stage(path: Path) -> None:
    stages: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, flags=re.IGNORECASE)
        if not match:
            continue
        image, stage = match.groups()
        assert image in stages or DIGEST_PINNED.match(image), f"{path.parent.name}: `{line}` is not pinned by digest"
        if stage:
            stages.add(stage)


def test_the_digest_check_rejects_a_tag_only_image() -> None:
    assert not DIGEST_PINNED.match("node:24-alpine3.22"), "a tag alone is not a pin"
    assert DIGEST_PINNED.match(dockerfile.NODE_IMAGE), "the base image is"


def test_the_bot_updates_the_base_image_where_it_is_written_and_where_it_is_rendered() -> None:
    data = config()
    (manager,) = data["customManagers"]
    assert _matches(manager["managerFilePatterns"], ROOT / "components" / "pods" / "render" / "dockerfile.py")
    source = (ROOT / "components" / "pods" / "render" / "dockerfile.py").read_text(encoding="utf-8")
    found = [m.groupdict() for pattern in manager["matchStrings"] for m in _python_regex(pattern).finditer(source)]
    name, _, rest = dockerfile.NODE_IMAGE.partition(":")
    tag, _, digest = rest.partition("@")
    assert found == [{"depName": name, "currentValue": tag, "currentDigest": digest}], found
    assert all(_matches(data["dockerfile"]["managerFilePatterns"], path) for path in DOCKERFILES), "rendered copies"
    docker_rule = next(rule for rule in data["packageRules"] if rule.get("matchDatasources") == ["docker"]
                       and "groupName" in rule)
    assert docker_rule["pinDigests"] is True, "new tags arrive with their digest"


def test_the_bot_covers_actions_npm_and_every_python_lock_file_in_groups() -> None:
    data = config()
    assert {"dockerfile", "custom.regex", "github-actions", "npm", "pip_requirements"} <= set(data["enabledManagers"])
    locks = sorted(ROOT.glob("**/requirements*.lock"))
    locks = [path for path in locks if "venv" not in path.parts and "node_modules" not in path.parts]
    assert locks and all(_matches(data["pip_requirements"]["managerFilePatterns"], path) for path in locks), locks
    grouped = {manager for rule in data["packageRules"] if "groupName" in rule
               for manager in rule.get("matchManagers", [])}
    assert {"github-actions", "pip_requirements", "npm"} <= grouped, "updates arrive grouped, as reviewable PRs"
