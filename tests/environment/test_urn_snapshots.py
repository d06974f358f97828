"""Resource URNs are the identity Pulumi keeps state under: an accidental rename replaces the resource
(and, for stateful ones, its data). Each stack's URNs are committed; a change must be deliberate.

After an intended change (a new service, or a rename that carries an `alias`), refresh the snapshots with
`venv/bin/python -m tests.environment.test_urn_snapshots` and commit them with the change.
"""

from __future__ import annotations

import pytest

from tests.cluster import sample as cluster_sample
from tests.conftest import REVIEW_OVERRIDES
from tests.harness import ROOT, Evaluation, evaluate

SNAPSHOTS = ROOT / "tests" / "snapshots"
STACKS = {"dev": None, "prod": None, "review-42": REVIEW_OVERRIDES, cluster_sample.STACK: cluster_sample.overrides()}


def urns(evaluation: Evaluation) -> list[str]:
    return sorted(r.urn for r in evaluation.resources)


def snapshot_path(stack: str) -> str:
    return str(SNAPSHOTS / f"urns-{stack}.txt")


@pytest.fixture(scope="module")
def evaluations(dev: Evaluation, prod: Evaluation, review: Evaluation) -> dict[str, Evaluation]:
    cluster = evaluate(cluster_sample.STACK, cluster_sample.overrides())
    return {"dev": dev, "prod": prod, "review-42": review, cluster_sample.STACK: cluster}


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_resource_keeps_the_urn_it_was_created_under(stack: str, evaluations: dict[str, Evaluation]) -> None:
    expected = [line for line in (SNAPSHOTS / f"urns-{stack}.txt").read_text().splitlines() if line]
    actual = urns(evaluations[stack])
    removed = sorted(set(expected) - set(actual))
    added = sorted(set(actual) - set(expected))
    assert not removed and not added, (
        f"{stack}: URNs changed (a rename replaces the resource; add an alias, or refresh the snapshot "
        f"if the change is intended).\n  gone: {removed}\n  new: {added}"
    )


def refresh() -> None:
    SNAPSHOTS.mkdir(exist_ok=True)
    for stack, overrides in STACKS.items():
        (SNAPSHOTS / f"urns-{stack}.txt").write_text("\n".join(urns(evaluate(stack, overrides))) + "\n")


if __name__ == "__main__":
    refresh()
