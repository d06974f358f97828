"""The docs' service and port tables, derived from the pods catalog and the infra registry.

Each table sits in its document between two markers and is rewritten from the same records the program
deploys, so adding a service to a Big Pod (or an infra service) edits no document by hand.
Regenerate with `venv/bin/python -m components.doctables`; tests/wiring/test_doc_tables.py fails when a
committed document differs from what this renders.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from components.config.loader import ROOT
from components.infra.registry import REGISTRY, InfraEntry
from components.pods.catalog import CATALOG
from components.pods.model import PodDefinition, all_services

COMMAND = "venv/bin/python -m components.doctables"

Renderer = Callable[[Sequence[PodDefinition], Sequence[InfraEntry]], str]


@dataclass(frozen=True, kw_only=True)
class Table:
    doc: str
    """The document, relative to the repository root."""
    name: str
    """The marker's name: `<!-- generated:<name> ... -->`."""
    render: Renderer


def _titles(registry: Sequence[InfraEntry]) -> dict[str, str]:
    return {entry.need.value: entry.title for entry in registry}


def services_table(catalog: Sequence[PodDefinition], registry: Sequence[InfraEntry]) -> str:
    """The application contract's table: where each service's code lives and what it gets."""
    titles = _titles(registry)
    order = [entry.need for entry in registry]
    rows = ["| service | directory | pod | port | debug port | reaches |", "|---|---|---|---|---|---|"]
    for pod, service in all_services(catalog):
        reaches = ", ".join(titles[need.value] for need in order if need in service.needs) or "the API through the edge"
        debug = str(service.debug_port) if service.debug_port is not None else "(browser code)"
        rows.append(f"| {service.name} | `{service.source}` | {pod.name} | {service.port} | {debug} | {reaches} |")
    return "\n".join(rows)


def dev_ports_table(catalog: Sequence[PodDefinition], registry: Sequence[InfraEntry]) -> str:
    """Every port a Big Pod publishes on localhost in dev, by the name `docker.hostPorts` overrides it with."""
    rows = ["| pod | port name (`docker.hostPorts` key) | in the pod | on localhost | dev only |",
            "|---|---|---|---|---|"]
    for pod in catalog:
        for port in pod.ports(dev=True):
            if port.host_port is not None:
                rows.append(f"| {pod.name} | `{port.name}` | {port.number} | {port.host_port} | "
                            f"{'yes' if port.dev_only else ''} |")
    return "\n".join(rows)


def debuggers_table(catalog: Sequence[PodDefinition], registry: Sequence[InfraEntry]) -> str:
    """README: where to attach a Node debugger to each service in dev."""
    rows = ["| service | pod | debugger on localhost | source mounted at |", "|---|---|---|---|"]
    rows += [f"| {service.name} | {pod.name} | {service.debug_port} | `/app/{service.name}` |"
             for pod, service in all_services(catalog) if service.debug_port is not None]
    return "\n".join(rows)


def _node(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def bigpods_diagram(catalog: Sequence[PodDefinition], registry: Sequence[InfraEntry]) -> str:
    """The architecture's Big Pods diagram: pods, their processes and ports, the gateway's routes and
    which infra service each process reaches."""
    lines = ["```mermaid", "flowchart TB", '  client((client)) --> edge["Traefik (k3s) / localhost ports (dev)"]']
    exposed = [pod.name for pod in catalog if any(port.exposure is not None for port in pod.ports(dev=False))]
    if exposed:
        lines.append(f"  edge --> {' & '.join(_node(name) for name in exposed)}")
    for pod in catalog:
        extras = "".join(f" · {port.name} :{port.number}" for port in pod.extra_ports)
        lines.append(f'  subgraph {_node(pod.name)}["{pod.name} pod{extras}"]')
        nodes = [f'{_node(pod.name + "-nginx")}["NGINX :{pod.gateway.listen_port}"]'] if pod.gateway else []
        nodes += [f'{_node(service.name)}["{service.name} :{service.port}"]' for service in pod.services]
        lines += [f"    {'; '.join(nodes)}", "  end"]
    for pod in catalog:
        if pod.gateway is not None:
            targets = list(dict.fromkeys(_node(route.service) for route in pod.gateway.routes))
            lines.append(f"  {_node(pod.name + '-nginx')} --> {' & '.join(targets)}")
    for entry in registry:
        users = [_node(service.name) for _, service in all_services(catalog) if entry.need in service.needs]
        if users:
            lines.append(f'  {" & ".join(users)} --> {_node("infra-" + entry.name)}[("{entry.title}")]')
    lines.append("```")
    return "\n".join(lines)


TABLES: tuple[Table, ...] = (
    Table(doc="docs/application-contract.md", name="services", render=services_table),
    Table(doc="docs/bigpods.md", name="dev-ports", render=dev_ports_table),
    Table(doc="README.md", name="debuggers", render=debuggers_table),
    Table(doc="docs/architecture.md", name="bigpods-diagram", render=bigpods_diagram),
)
"""Every generated table, by document."""


def _markers(name: str) -> tuple[str, str]:
    return (f"<!-- generated:{name} by `{COMMAND}`; do not edit by hand -->", f"<!-- end generated:{name} -->")


def replace_table(text: str, name: str, body: str) -> str:
    """`text` with the part between `name`'s markers replaced by `body`; a missing marker is an error."""
    begin, end = _markers(name)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the document has no {begin!r} ... {end!r} markers")
    return text[:start + len(begin)] + "\n" + body + "\n" + text[stop:]


def render_docs(root: Path = ROOT, catalog: Sequence[PodDefinition] = CATALOG,
                registry: Sequence[InfraEntry] = REGISTRY) -> dict[Path, str]:
    """Each document's full text with its tables rendered, read from `root`."""
    docs: dict[Path, str] = {}
    for table in TABLES:
        path = root / table.doc
        text = docs.get(path) or path.read_text(encoding="utf-8")
        docs[path] = replace_table(text, table.name, table.render(catalog, registry))
    return docs


def main(argv: Sequence[str]) -> int:
    for path, text in render_docs().items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
