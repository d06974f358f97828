"""docs/config.md is generated from the model and Pulumi.yaml, and must match them."""

from __future__ import annotations

from components.config.reference import DOC, render


def test_the_committed_config_reference_matches_the_model_and_the_defaults() -> None:
    assert DOC.read_text() == render(), (
        "docs/config.md is stale: run `venv/bin/python -m components.config.reference`"
    )


def test_the_reference_documents_every_top_level_key_with_a_description() -> None:
    cells = [[c.strip() for c in line.split(" | ")] for line in render().splitlines() if line.startswith("| `")]
    top_level = [row for row in cells if "." not in row[0]]
    assert len(top_level) >= 10, "the reference lists the top-level keys"
    undocumented = [row[0] for row in top_level if row[3].rstrip("|").strip() == ""]
    assert not undocumented, f"top-level keys without a description: {undocumented}"
