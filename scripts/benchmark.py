"""Report how long the program takes to evaluate each stack under mocks, and what it creates.

Each stack runs in a fresh interpreter, so import costs count and we can see which provider SDKs
the stack imported (dev must not import pulumi_kubernetes; prod must not import pulumi_docker; only the
cluster stack imports pulumi_command). The cluster stack runs with the tests' stand-in secrets
(tests/cluster/sample.py), which its committed stack file leaves to secret config.
Usage: venv/bin/python scripts/benchmark.py [stack ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys, time
sys.path.insert(0, {root!r})
started = time.perf_counter()
from tests.harness import evaluate
from tests.cluster import sample
evaluation = evaluate({stack!r}, sample.overrides() if {stack!r} == sample.STACK else None)
elapsed = time.perf_counter() - started
custom = [r for r in evaluation.resources if not r.type.startswith("dreamscape:")]
print(json.dumps({{
    "seconds": round(elapsed, 3),
    "resources": len(evaluation.resources),
    "provider_resources": len(custom),
    "imports_docker": "pulumi_docker" in sys.modules,
    "imports_kubernetes": "pulumi_kubernetes" in sys.modules,
    "imports_command": "pulumi_command" in sys.modules,
}}))
"""


def measure(stack: str) -> dict[str, object]:
    code = PROBE.format(root=str(ROOT), stack=stack)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(stacks: list[str]) -> None:
    print(f"{'stack':<14}{'seconds':>9}{'resources':>11}{'provider':>10}  imports")
    for stack in stacks:
        r = measure(stack)
        imports = ", ".join(name for name, key in (("pulumi_docker", "imports_docker"),
                                                    ("pulumi_kubernetes", "imports_kubernetes"),
                                                    ("pulumi_command", "imports_command")) if r[key])
        print(f"{stack:<14}{r['seconds']:>9}{r['resources']:>11}{r['provider_resources']:>10}  {imports}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["dev", "prod", "review-pr-1", "prod-cluster"])
