"""The lock files pin every Python package with hashes, agree with the hand-edited ranges, and are what
the virtualenv holds; the harness reaches SDK internals only through tests/sdk_internals.py."""

from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    ROOT / "requirements-dev.lock": ROOT / "requirements-dev.txt",
    ROOT / "requirements.lock": ROOT / "requirements.txt",
    ROOT / "policy" / "requirements.lock": ROOT / "policy" / "requirements.txt",
}
PIN = re.compile(r"^([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;\\]+)")


def pins(lock: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(3)
    return found


def direct_requirements(path: Path) -> list[Requirement]:
    """The requirement lines of a hand-edited file, following `-r` includes."""
    found: list[Requirement] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("-r") else raw.strip()
        if not line:
            continue
        if line.startswith("-r"):
            found += direct_requirements(path.parent / line.removeprefix("-r").strip())
        else:
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_locked_package_is_pinned_exactly_with_at_least_one_hash(lock: Path) -> None:
    text = lock.read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1])
    assert len(entries) > 5, f"{lock.name} lists the packages"
    for entry in entries:
        first = entry.splitlines()[0]
        assert PIN.match(first), f"{lock.name}: {first!r} is not an exact `==` pin"
        assert "--hash=sha256:" in entry, f"{lock.name}: {first!r} carries no hash (pip --require-hashes)"


@pytest.mark.parametrize(("lock", "source"), LOCKS.items(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_lock_satisfies_every_range_of_its_requirements_file(lock: Path, source: Path) -> None:
    locked = pins(lock)
    for requirement in direct_requirements(source):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{source.name} asks for {name}, which {lock.name} lacks: run scripts/lock.sh"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock.name} pins {name}=={locked[name]} outside {source.name}'s {requirement.specifier}: "
            "run scripts/lock.sh"
        )


def test_the_runtime_and_policy_locks_agree_with_the_dev_lock() -> None:
    dev = pins(ROOT / "requirements-dev.lock")
    for lock in (ROOT / "requirements.lock", ROOT / "policy" / "requirements.lock"):
        for name, version in pins(lock).items():
            assert dev.get(name) == version, f"{lock.name} pins {name}=={version}, the dev lock {dev.get(name)}"


def test_the_virtualenv_holds_exactly_the_locked_versions() -> None:
    for name, version in pins(ROOT / "requirements-dev.lock").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # platform-specific (markers) or not needed on this Python
        assert Version(installed) == Version(version), (
            f"venv has {name}=={installed}, the lock {version}: run scripts/venv.sh"
        )


PRIVATE_SDK = re.compile(r"pulumi\.runtime\.(settings|stack|sync_await|rpc|mocks)\b|\b_sync_await\b")


def test_only_sdk_internals_touches_private_pulumi_modules() -> None:
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == "sdk_internals.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and (
                PRIVATE_SDK.search(node.module) or (node.module == "pulumi.runtime" and any(
                    alias.name in {"settings", "stack", "sync_await", "rpc", "mocks"} for alias in node.names))
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"private Pulumi SDK modules imported outside tests/sdk_internals.py: {offenders}"


def test_every_private_sdk_import_in_sdk_internals_carries_a_comment() -> None:
    lines = (ROOT / "tests" / "sdk_internals.py").read_text(encoding="utf-8").splitlines()
    imports = [i for i, line in enumerate(lines) if line.startswith("from pulumi.runtime import")]
    assert imports, "sdk_internals imports the SDK's runtime modules"
    for index in imports:
        assert lines[index - 1].startswith("# Private:"), f"line {index + 1} ({lines[index]!r}) says why"
