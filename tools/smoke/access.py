"""How the smoke test reaches an environment's insides from outside it.

- Docker (dev): everything it checks is published on the developer's machine; the Big Pod services on
  their catalog ports, the infrastructure on the addresses of the `endpoints` output.
- Kubernetes (prod, review): one `kubectl port-forward` per Service it needs, on a free local port,
  started on first use and stopped at the end.
Commands inside a workload (the Kafka console tools) run through `docker exec` or `kubectl exec`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from tools.runner import Command, Runner


class Access(Protocol):
    def address(self, host: str, port: int) -> tuple[str, int]:
        """Where to connect to reach `host:port` as the environment's own workloads do."""
        ...

    def exec(self, workload: str, argv: tuple[str, ...]) -> Command:
        """A command that runs `argv` inside the first member of `workload`."""
        ...

    def close(self) -> None: ...


def split_address(address: str, default_port: int) -> tuple[str, int]:
    """`host:port` (or `http://host:port`) -> (host, port)."""
    rest = address.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    return (host, int(port)) if host else (rest, default_port)


@dataclass
class DockerAccess:
    stack: str
    published: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Service host -> published address, from the `endpoints` output (infrastructure)."""

    def address(self, host: str, port: int) -> tuple[str, int]:
        return self.published.get(host, ("127.0.0.1", port))

    def exec(self, workload: str, argv: tuple[str, ...]) -> Command:
        return Command(("docker", "exec", "-i", f"dreamscape-{self.stack}-{workload}-0", *argv))

    def close(self) -> None:
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


@dataclass
class KubernetesAccess:
    namespace: str
    runner: Runner
    wait: Callable[[str, int, float], bool] = wait_for_port
    port_picker: Callable[[], int] = free_port
    forwards: dict[tuple[str, int], int] = field(default_factory=dict)
    stops: list[Callable[[], None]] = field(default_factory=list)

    def address(self, host: str, port: int) -> tuple[str, int]:
        service = host.split(".", 1)[0]  # `business-pod.<ns>.svc.cluster.local` -> `business-pod`
        key = (service, port)
        if key not in self.forwards:
            local = self.port_picker()
            self.stops.append(self.runner.start(Command((
                "kubectl", "-n", self.namespace, "port-forward", f"svc/{service}", f"{local}:{port}"))))
            self.wait("127.0.0.1", local, 15.0)
            self.forwards[key] = local
        return ("127.0.0.1", self.forwards[key])

    def exec(self, workload: str, argv: tuple[str, ...]) -> Command:
        return Command(("kubectl", "-n", self.namespace, "exec", "-i", f"{workload}-0", "--", *argv))

    def close(self) -> None:
        for stop in self.stops:
            stop()
        self.stops.clear()
        self.forwards.clear()
