"""DreamScape's Big Pods: which service runs in which multi-process container, as plain data.

Six service repositories and the web front end are built into three pods (core, business,
experience). The types are in model.py; this module holds only DreamScape's data, so adding a service
is one entry here (then `make render` regenerates the image files). Everything else derives from it:
the image build, dev publishing, probes, scrape targets, the capacity budgets, edge routes and docs.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from components import spec
from components.pods.model import (
    AppService,
    GatewayRoute,
    Infra,
    NginxGateway,
    PodDefinition,
    RateLimit,
    ScaleOnCpu,
    ScaleOnQueueLag,
    ScaleOnRequestRate,
    ScaleOnSessions,
    TokenVerify,
)

_SERVICES = PurePosixPath("dreamscape-services")
_FRONTEND = PurePosixPath("dreamscape-frontend")

AUTH_RATE_LIMIT = RateLimit(zone="auth", requests_per_second=10, burst=20)
USERS_RATE_LIMIT = RateLimit(zone="users", requests_per_second=15, burst=30)

CORE = PodDefinition(
    name="core",
    description="NGINX gateway, authentication and user management",
    services=(
        AppService(
            "auth", 3001, _SERVICES / "auth", frozenset({Infra.POSTGRES, Infra.REDIS}), debug_port=9229,
            signs_tokens=True,
        ),
        AppService(
            "user", 3002, _SERVICES / "user", frozenset({Infra.POSTGRES, Infra.REDIS}), debug_port=9230,
            signs_tokens=True,
        ),
    ),
    gateway=NginxGateway(
        routes=(
            GatewayRoute("/api/v1/auth", "auth", AUTH_RATE_LIMIT),
            GatewayRoute("/api/v1/users", "user", USERS_RATE_LIMIT),
            # Business and experience services hold no token key: NGINX verifies tokens for them with
            # the auth service (auth_request). Auth and user verify their own (they hold the JWT keys).
            GatewayRoute("/api/v1/voyages", "voyage", protected=True),
            GatewayRoute("/api/v1/ai", "ai", protected=True),
            GatewayRoute("/api/v1/payments", "payment", protected=True),
            GatewayRoute("/api/v1/panorama", "panorama", protected=True),
        ),
        verify=TokenVerify("auth", "/api/v1/auth/verify"),
        # Seed 001: sticky sessions for the core pod.
        exposure=spec.Exposure(route="api", sticky=True),
    ),
    replicas=3,
    resources=spec.Resources(cpu_request="1", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi"),
    # Seed 001: one replica per 1000 concurrent users.
    scaling=(ScaleOnSessions(per_replica=1000),),
)

BUSINESS = PodDefinition(
    name="business",
    description="Voyage planning, AI generation and payments",
    services=(
        # Seed: the voyage request flow caches search results in Redis.
        AppService(
            "voyage", 3003, _SERVICES / "voyage", frozenset({Infra.POSTGRES, Infra.KAFKA, Infra.REDIS}),
            debug_port=9231,
        ),
        AppService("ai", 3004, _SERVICES / "ai", frozenset({Infra.KAFKA}), debug_port=9232),
        AppService(
            "payment", 3005, _SERVICES / "payment", frozenset({Infra.POSTGRES, Infra.KAFKA}), debug_port=9233
        ),
    ),
    replicas=5,
    resources=spec.Resources(cpu_request="2", cpu_limit="4", memory_request="4Gi", memory_limit="8Gi"),
    # Seed 001: the AI processing queue and CPU above 70%. The queue is ai's consumer group on the
    # bookings topic (the reference ai service's group; docs/application-contract.md).
    scaling=(ScaleOnQueueLag(topic="voyage.booked", consumer_group="reference-ai", per_replica=100),
             ScaleOnCpu(utilization=70)),
)

WEB_PORT = 3000
"""The web client's port: Vite binds it in dev (`--port`) and the pod declares it."""
GATEWAY_PORT = 4000
"""The WebSocket gateway's port: the pod declares it and the web client proxies `/ws` to it."""
_VITE_FLAGS = ("--", "--host", "0.0.0.0", "--port", str(WEB_PORT), "--strictPort")

EXPERIENCE = PodDefinition(
    name="experience",
    description="Web client, VR panorama and WebSocket gateway",
    services=(
        AppService(
            "web",
            WEB_PORT,
            _FRONTEND / "web-client",
            health_path="/",
            # Vite binds localhost by default: bind all interfaces so the published port works.
            dev_command=("npm", "run", "dev", *_VITE_FLAGS),
            # Unused: prod serves the built `dist/` with NGINX (static_dir), never a Node server.
            prod_command=("npm", "start"),
            # Pages, not metrics (Vite in dev, NGINX in prod).
            metrics_path=None,
            exposure=spec.Exposure(route="web", subdomain="app"),
            static_dir="dist",
            # The page reaches the WebSocket gateway through its own origin.
            proxies=(("/ws", GATEWAY_PORT),),
        ),
        AppService("panorama", 3006, _FRONTEND / "panorama", frozenset({Infra.MINIO}), debug_port=9234),
        AppService(
            "gateway", GATEWAY_PORT, _FRONTEND / "gateway", frozenset({Infra.KAFKA, Infra.REDIS}), debug_port=9235,
            # Real time at `wss://ws.<domain>` (the page also reaches it at `/ws` of its own origin). Not
            # sticky: a WebSocket is one connection, pinned for its life; the gateway keeps no session
            # a reconnect would need (a polling fallback such as socket.io's would need `sticky=True`).
            exposure=spec.Exposure(route="realtime", subdomain="ws", long_lived=True),
        ),
    ),
    extra_ports=(spec.Port("vite-hmr", 5173, host_port=5173, dev_only=True),),
    replicas=4,
    resources=spec.Resources(cpu_request="1", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi"),
    # Seed 001: scale when requests/s exceed 1000 per replica.
    scaling=(ScaleOnRequestRate(per_replica=1000),),
)

CATALOG: tuple[PodDefinition, ...] = (CORE, BUSINESS, EXPERIENCE)
"""Every Big Pod, in start order (core first: the web client talks to its NGINX)."""
