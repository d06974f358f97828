"""A Big Pod: one multi-process container (supervisord) per catalog entry, as a blueprint.

One builder for every pod: everything pod-specific comes from its `PodDefinition` (catalog.py), so a
new pod or service is a catalog entry. What differs between environments arrives as arguments:
- `image`: a registry reference (prod, review) or a `spec.ImageBuild` of the rendered Dockerfile's `dev`
  stage (dev, built by the Docker target);
- `workspace`: development mode. It mounts each service's source directory over its app directory (hot
  reload), keeps the image's node_modules visible, and adds the Node debug ports;
- `nginx`: the gateway's NGINX settings for the platform (its resolver and each pod's fully qualified
  name); the rendered config is mounted only when it differs from the one baked into the image.

Infrastructure reaches the processes through the links the infrastructure offers (env vars and `*_FILE`
secrets), and only the links the pod's services need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from components import spec
from components.deploy import BlueprintComponent
from components.pods import scaling
from components.pods.catalog import CATALOG
from components.pods.model import Infra, PodDefinition
from components.pods.render.nginx import NginxSettings, render_nginx
from components.pods.render.supervisord import NGINX_CONF_PATH

UID = 1000
"""The `node` user of the pod images."""
SECURITY = spec.Security(run_as_user=UID, run_as_group=UID, fs_group=UID, scratch_paths=("/tmp",))
"""supervisord, NGINX and npm write only under /tmp (pid, sockets, temp paths, npm cache)."""


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """One service's own configuration (`services.<service>` in the stack config)."""

    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    """Secret values by variable name; each becomes a file named by `<NAME>_FILE`."""

    def secret_files(self, service: str) -> dict[str, spec.SecretFile]:
        """`<NAME>_FILE` -> the file, keyed by service so two pods never share a Secret key."""
        return {
            f"{name}_FILE": spec.SecretFile(f"{service}-{name.lower().replace('_', '-')}", value)
            for name, value in sorted(self.secrets.items())
        }


@dataclass(frozen=True, kw_only=True)
class BigPodArgs:
    pod: PodDefinition
    image: str | spec.ImageBuild
    replicas: int
    max_replicas: int
    resources: spec.Resources
    links: Mapping[Infra, spec.Link]
    """Links for (at least) the infrastructure the pod needs."""
    jwt_secret_files: tuple[spec.SecretFile, ...] = ()
    """Given to pods whose services sign or verify tokens."""
    workspace: Path | None = None
    """Development mode: the workspace root whose sources are mounted for hot reload; debug ports."""
    nginx: NginxSettings = field(default_factory=NginxSettings)
    seed: bool = False
    """Migrations are followed by the seed data and test accounts (`npm run seed`): dev and review only."""
    settings: Mapping[str, ServiceSettings] = field(default_factory=dict)
    """Per-service configuration by service name; only this pod's services' entries are used."""
    catalog: tuple[PodDefinition, ...] = CATALOG
    canary: spec.Canary | None = None
    """A canary release of the pod beside the stable one (its migrations run when it is promoted)."""


def probes(pod: PodDefinition) -> spec.Probes:
    """Ready, and alive, only while every process answers.

    A process that never comes up ends FATAL and stops the container (the supervisord listener); one that
    runs but hangs fails liveness after a minute, and the container restarts. Readiness drops sooner."""
    main = pod.health
    return spec.Probes(
        readiness=spec.Probe(command=pod.health_command, period_seconds=10, timeout_seconds=10),
        liveness=spec.Probe(command=pod.health_command, period_seconds=20, timeout_seconds=10, failure_threshold=3),
        # npm start / vite can take a while on a cold node: up to 3 minutes before liveness applies.
        startup=spec.Probe(http_path=main.path, port=main.port, period_seconds=5, failure_threshold=36),
    )


def nginx_config(pod: PodDefinition, settings: NginxSettings,
                 catalog: tuple[PodDefinition, ...]) -> tuple[spec.ConfigFile, ...]:
    """The gateway's config for this platform, when it differs from the one baked into the image."""
    if pod.gateway is None:
        return ()
    rendered = render_nginx(pod, catalog, settings)
    if rendered == render_nginx(pod, catalog):
        return ()
    return (spec.ConfigFile(str(NGINX_CONF_PATH), rendered),)


MIGRATE = "npm run migrate"
SEED = "npm run seed"
MIGRATION_RESOURCES = spec.Resources(cpu_request="100m", cpu_limit="500m", memory_request="128Mi",
                                     memory_limit="512Mi")


def migrations(args: BigPodArgs, security: spec.Security) -> tuple[spec.Task, ...]:
    """One run-once task per service with a database: `npm run migrate` (then `npm run seed` when seeding)
    in the service's directory of the pod's own image, after the database exists and before the pod
    starts or rolls. A new image is a new task, so each release migrates before its pods replace the old."""
    pod = args.pod
    link = args.links.get(Infra.POSTGRES)
    if link is None:
        return ()
    command = f"{MIGRATE} && {SEED}" if args.seed else MIGRATE
    tasks = []
    for app in pod.services:
        if Infra.POSTGRES not in app.needs:
            continue
        settings = args.settings.get(app.name, ServiceSettings())
        secret_files = settings.secret_files(app.name)
        mounts: tuple[spec.HostMount, ...] = ()
        preserved: tuple[str, ...] = ()
        if args.workspace is not None:
            mounts = (spec.HostMount(str(args.workspace / str(app.source)), str(app.app_dir)),)
            preserved = (str(app.app_dir / "node_modules"),)
        tasks.append(spec.Task(
            name=f"{pod.name}-migrate-{app.name}",
            component="bigpods",
            zone=spec.Zone.BIGPODS,
            reaches=frozenset({link.zone}),
            after=(link.service, *link.setup),
            gates=(pod.hostname,),
            container=spec.Container(
                image=args.image,
                resources=MIGRATION_RESOURCES,
                command=("/bin/sh", "-c", command),
                working_dir=str(app.app_dir),
                env=spec.frozen_map({**link.env, **settings.env,
                                     **{name: file.path for name, file in secret_files.items()}}),
                secret_files=(*link.secret_files, *secret_files.values()),
                trusts_ca=link.trusts_ca,
                host_mounts=mounts,
                preserved_paths=preserved,
                security=security,
            ),
        ))
    return tuple(tasks)


def blueprint(args: BigPodArgs) -> spec.Blueprint:
    """The target-neutral description of one Big Pod."""
    pod = args.pod
    missing = sorted(need.value for need in pod.needs if need not in args.links)
    if missing:
        raise ValueError(f"pod {pod.name} needs {missing} but no link was given")
    if args.max_replicas < args.replicas:
        raise ValueError(f"pod {pod.name}: max replicas {args.max_replicas} below replicas {args.replicas}")
    links = [args.links[need] for need in sorted(pod.needs, key=lambda need: need.value)]
    env: dict[str, spec.Text] = {}
    secret_files: list[spec.SecretFile] = []
    for link in links:
        env.update(link.env)
        secret_files += link.secret_files
    if pod.signs_tokens:
        secret_files += args.jwt_secret_files
        # `jwt-access-secret` -> JWT_ACCESS_SECRET_FILE: the contract's `<NAME>_FILE` convention.
        env.update({f"{file.key.upper().replace('-', '_')}_FILE": file.path for file in args.jwt_secret_files})
    for app in pod.services:
        settings = args.settings.get(app.name)
        if settings is None:
            continue
        env.update(settings.env)
        for variable, file in settings.secret_files(app.name).items():
            env[variable] = file.path
            secret_files.append(file)
    dev = args.workspace is not None
    mounts: tuple[spec.HostMount, ...] = ()
    preserved: tuple[str, ...] = ()
    if args.workspace is not None:
        mounts = tuple(
            spec.HostMount(str(args.workspace / str(service.source)), str(service.app_dir))
            for service in pod.services
        )
        preserved = tuple(str(service.app_dir / "node_modules") for service in pod.services)
    service = spec.Service(
        name=pod.hostname,
        component="bigpods",
        zone=spec.Zone.BIGPODS,
        reaches=frozenset(link.zone for link in links),
        after=tuple(link.service for link in links),
        ports=pod.ports(dev=dev),
        replicas=args.replicas,
        autoscale=scaling.autoscale(pod, args.replicas, args.max_replicas),
        probes=probes(pod),
        labels={"dreamscape.io/pod": pod.name},
        canary=args.canary,
        container=spec.Container(
            image=args.image,
            resources=args.resources,
            env=spec.frozen_map(env),
            secret_files=tuple(secret_files),
            trusts_ca=any(link.trusts_ca for link in links),
            config_files=nginx_config(pod, args.nginx, args.catalog),
            host_mounts=mounts,
            preserved_paths=preserved,
            security=SECURITY,
        ),
    )
    return spec.Blueprint(services=(service,), tasks=migrations(args, SECURITY))


class BigPod(BlueprintComponent):
    """One Big Pod of the catalog, deployed after the infrastructure it needs."""

    TYPE = "dreamscape:pods:BigPod"
