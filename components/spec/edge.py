"""What the outside world reaches: public routes, said once, realised by each target.

Docker publishes ports on localhost (plain HTTP, the developer's machine). Kubernetes builds Ingresses
with TLS, an HTTP to HTTPS redirect and edge middlewares (see docs/edge.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.spec.canary import Canary


@dataclass(frozen=True)
class BasicAuth:
    """Credentials the edge asks for before it forwards a request."""

    username: str
    password: pulumi.Output[str]


@dataclass(frozen=True)
class Route:
    """A hostname routed to a service port.

    `host` is the public name (Kubernetes); `host_port` the port published on localhost (Docker; None
    when the route is not published there).
    """

    name: str
    host: str
    service: str
    port: int
    host_port: int | None = None
    auth: BasicAuth | None = None
    rate_limited: bool = True
    path: str = "/"
    long_lived: bool = False
    """WebSocket: the edge keeps connections open for an hour, and the route's URL is `ws(s)://`."""
    sticky: bool = False
    """Clients stay on one replica (a cookie)."""
    canary: Canary | None = None
    """The routed service's canary: the edge splits this route's requests between the two by weight."""

    @property
    def scheme(self) -> str:
        """The URL scheme a client uses over TLS (the Kubernetes edge)."""
        return "wss" if self.long_lived else "https"

    @property
    def plain_scheme(self) -> str:
        """The URL scheme without TLS (Docker publishes plain ports on localhost)."""
        return "ws" if self.long_lived else "http"

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"route {self.name}: path {self.path!r} must start with '/'")
