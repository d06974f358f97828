"""A Big Pod: one multi-process container (supervisord) per catalog entry, deployed by the stack's target.

One component for every pod: everything pod-specific comes from its `PodDefinition` (catalog.py), so a
new pod is a catalog entry. What differs between environments arrives as arguments:
- `image`: a registry reference (prod, review) or a `spec.ImageBuild` of the rendered Dockerfile's `dev`
  stage (dev, built by the Docker target);
- `workspace`: set in dev, it mounts each service's source directory over its app directory (hot reload),
  keeps the image's node_modules visible, and publishes the Node debug ports;
- `nginx`: the gateway's NGINX settings for the target (full hostnames and the cluster DNS on k3s); the
  rendered config is mounted only when it differs from the one baked into the image.

Infrastructure endpoints reach the processes as env vars (hosts) and secret files (`*_FILE`), and only
the infrastructure and secrets the pod's services need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components import spec
from components.pods.catalog import CATALOG, Infra, PodDefinition, PodPort
from components.pods.render.nginx import NginxSettings, render_nginx
from components.pods.render.supervisord import NGINX_CONF_PATH
from components.targets import Deployed, Target

INFRA_ZONES: Mapping[Infra, spec.Zone] = {
    Infra.POSTGRES: spec.Zone.DATABASE,
    Infra.REDIS: spec.Zone.CACHE,
    Infra.KAFKA: spec.Zone.MESSAGING,
    Infra.MINIO: spec.Zone.STORAGE,
}
UID = 1000
"""The `node` user of the pod images."""
STICKY_COOKIE = "dreamscape_affinity"


@dataclass(frozen=True)
class InfraLink:
    """How a pod reaches one piece of infrastructure."""

    env: Mapping[str, str]
    secret_files: tuple[spec.SecretFile, ...]
    deployed: Deployed


@dataclass(frozen=True)
class BigPodArgs:
    pod: PodDefinition
    target: Target
    image: str | spec.ImageBuild
    replicas: int
    max_replicas: int
    resources: spec.Resources
    infra: Mapping[Infra, InfraLink]
    """Links for (at least) the infrastructure the pod needs."""
    jwt_secret_files: tuple[spec.SecretFile, ...] = ()
    """Given to pods whose services sign or verify tokens."""
    workspace: Path | None = None
    """Dev: the workspace root whose sources are mounted for hot reload; debug ports are published."""
    host_ports: Mapping[str, int] = field(default_factory=dict)
    """Host port per port key (`host_port_key`); unlisted ports are not published."""
    nginx: NginxSettings | None = None
    catalog: tuple[PodDefinition, ...] = CATALOG
    cpu_utilization: int = 70


def host_port_key(pod: PodDefinition, port: PodPort) -> str:
    """The `docker.hostPorts` key of a pod port: `nginx` for the gateway, else the camelCased port name
    (`auth`, `viteHmr`, `authDebug`)."""
    if pod.gateway is not None and port == pod.gateway.port:
        return "nginx"
    head, *rest = port.name.split("-")
    return head + "".join(part.capitalize() for part in rest)


def service_ports(pod: PodDefinition, host_ports: Mapping[str, int], *, dev: bool) -> tuple[spec.Port, ...]:
    """Each service's own port declares its metrics path; the gateway, extras and debug ports declare none."""
    metrics = {service.name: service.metrics_path for service in pod.services}
    return tuple(
        spec.Port(port.name, port.port, host_port=host_ports.get(host_port_key(pod, port)),
                  metrics_path=metrics.get(port.name))
        for port in pod.ports(dev=dev)
    )


def probes(pod: PodDefinition) -> spec.Probes:
    """Ready when every process answers; alive while the main endpoint (gateway or first service) does."""
    main = pod.health
    return spec.Probes(
        readiness=spec.Probe(command=pod.health_command, period_seconds=10, timeout_seconds=10),
        liveness=spec.Probe(http_path=main.path, port=main.port, period_seconds=20, failure_threshold=3),
        # npm start / vite can take a while on a cold node: up to 3 minutes before liveness applies.
        startup=spec.Probe(http_path=main.path, port=main.port, period_seconds=5, failure_threshold=36),
    )


def nginx_config(pod: PodDefinition, settings: NginxSettings | None,
                 catalog: tuple[PodDefinition, ...]) -> tuple[spec.ConfigFile, ...]:
    """The gateway's config for this target, when it differs from the one baked into the image."""
    if pod.gateway is None or settings is None:
        return ()
    rendered = render_nginx(pod, catalog, settings)
    if rendered == render_nginx(pod, catalog):
        return ()
    return (spec.ConfigFile(str(NGINX_CONF_PATH), rendered),)


def sticky_annotations(pod: PodDefinition) -> dict[str, str]:
    if not pod.sticky_sessions:
        return {}
    prefix = "traefik.ingress.kubernetes.io/service.sticky.cookie"
    return {
        prefix: "true",
        f"{prefix}.name": STICKY_COOKIE,
        f"{prefix}.secure": "true",
        f"{prefix}.httponly": "true",
        f"{prefix}.samesite": "lax",
    }


def pod_service(args: BigPodArgs) -> spec.Service:
    """The target-neutral description of one Big Pod."""
    pod = args.pod
    missing = sorted(need.value for need in pod.needs if need not in args.infra)
    if missing:
        raise ValueError(f"pod {pod.name} needs {missing} but no link was given")
    needs = sorted(pod.needs, key=lambda need: need.value)
    env: dict[str, str] = {}
    secret_files: list[spec.SecretFile] = []
    for need in needs:
        env.update(args.infra[need].env)
        secret_files += args.infra[need].secret_files
    if pod.signs_tokens:
        secret_files += args.jwt_secret_files
    dev = args.workspace is not None
    mounts: tuple[spec.HostMount, ...] = ()
    preserved: tuple[str, ...] = ()
    if args.workspace is not None:
        mounts = tuple(
            spec.HostMount(str(args.workspace / str(service.source)), str(service.app_dir))
            for service in pod.services
        )
        preserved = tuple(str(service.app_dir / "node_modules") for service in pod.services)
    if args.max_replicas < args.replicas:
        raise ValueError(f"pod {pod.name}: max replicas {args.max_replicas} below replicas {args.replicas}")
    return spec.Service(
        name=pod.hostname,
        component="bigpods",
        zone=spec.Zone.BIGPODS,
        reaches=frozenset(INFRA_ZONES[need] for need in needs),
        ports=service_ports(pod, args.host_ports, dev=dev),
        replicas=args.replicas,
        autoscale=spec.Autoscale(args.replicas, args.max_replicas, args.cpu_utilization),
        probes=probes(pod),
        labels={"dreamscape.io/pod": pod.name},
        service_annotations=sticky_annotations(pod),
        container=spec.Container(
            image=args.image,
            resources=args.resources,
            env=spec.frozen_map(env),
            secret_files=tuple(secret_files),
            config_files=nginx_config(pod, args.nginx, args.catalog),
            host_mounts=mounts,
            preserved_paths=preserved,
            # supervisord, NGINX and npm write only under /tmp (pid, sockets, temp paths, npm cache).
            security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=UID, scratch_paths=("/tmp",)),
        ),
    )


class BigPod(pulumi.ComponentResource):
    """One Big Pod of the catalog, deployed after the infrastructure it needs."""

    def __init__(self, name: str, args: BigPodArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:pods:BigPod", name, None, opts)
        self.service = pod_service(args)
        after: Sequence[Deployed] = [args.infra[need].deployed for need in sorted(args.pod.needs)]
        self.deployed = args.target.deploy_service(self.service, self, after=after)
        self.host = self.service.host
        self.register_outputs({"host": self.host, "replicas": self.service.replicas})
