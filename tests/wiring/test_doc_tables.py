"""The docs' service and port tables are generated from the catalog and the registry: a committed document
that differs from what `components.doctables` renders is stale."""

from __future__ import annotations

import pytest

from components.doctables import COMMAND, TABLES, render_docs, replace_table
from components.pods.catalog import CATALOG


def test_every_generated_table_in_the_committed_docs_is_current() -> None:
    stale = [str(path) for path, text in render_docs().items() if path.read_text(encoding="utf-8") != text]
    assert not stale, f"stale generated tables in {stale}: run `{COMMAND}`"


def test_the_tables_name_every_service_and_port_of_the_catalog() -> None:
    rendered = {table.name: table.render(CATALOG, ()) for table in TABLES if table.name != "bigpods-diagram"}
    for pod in CATALOG:
        for port in pod.ports(dev=True):
            assert f"`{port.name}` | {port.number} |" in rendered["dev-ports"], f"the dev ports table has {port.name}"
        for service in pod.services:
            assert f"| {service.name} | `{service.source}` | {pod.name} | {service.port} |" in rendered["services"], (
                f"the contract's table has {service.name}")


def test_a_document_without_its_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="generated:services"):
        replace_table("# no markers here\n", "services", "| table |")
