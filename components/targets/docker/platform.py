"""The Docker target: the local daemon of a developer (dev stacks).

Realises a `spec.Service` as one container per member, with:
- one network per zone (data zones internal) and aliases `<name>`, `<name>-<i>`, `<name>-<i>.<name>-peers`;
- named volumes that survive `pulumi destroy` (`retain_on_delete`; only the nuclear reset removes them);
- secrets and rendered files uploaded into the container (never in the image, never on the host);
- a healthcheck from the readiness probe, `wait=True` so dependents start after it is healthy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import pulumi
import pulumi_docker as docker
import pulumi_docker_build as docker_build

from components.config import DockerConfig, StackConfig
from components.config.quantities import cpu_millicores, memory_bytes
from components.spec import (
    DATA_ZONES,
    Container,
    ImageBuild,
    Probe,
    Route,
    Service,
    Task,
    Text,
    WorkloadKind,
    Zone,
    peers_name,
)
from components.spec.access import Access
from components.targets.base import Deployed, TargetSettings
from components.targets.docker import access as access_grants
from components.targets.labels import ZONE_LABEL, workload_labels

MANAGED_BY = "dreamscape.io/stack"


@dataclass(frozen=True)
class DockerTargetArgs:
    settings: TargetSettings
    docker: DockerConfig


def healthcheck(probe: Probe, start_period_seconds: int) -> docker.ContainerHealthcheckArgs:
    """Docker has one healthcheck; it runs the readiness probe's test."""
    if probe.command is not None:
        tests = ["CMD", *probe.command]
    elif probe.http_path is not None:
        if probe.https:
            raise ValueError("Docker runs no transit TLS (PlatformFacts.transit_tls): no HTTPS probe here")
        tests = ["CMD-SHELL", f"wget -q -O /dev/null http://127.0.0.1:{probe.port}{probe.http_path} || exit 1"]
    else:
        raise ValueError("Docker healthchecks run a command or an HTTP request, not a bare TCP check")
    return docker.ContainerHealthcheckArgs(
        tests=tests,
        interval=f"{probe.period_seconds}s",
        timeout=f"{probe.timeout_seconds}s",
        retries=probe.failure_threshold,
        start_period=f"{start_period_seconds}s",
    )


def member_names(service: Service) -> list[str]:
    """Stateful members are `<name>-<i>`; a single stateless container is just `<name>`."""
    if service.kind is WorkloadKind.STATEFUL or service.replicas > 1:
        return [f"{service.name}-{i}" for i in range(service.replicas)]
    return [service.name]


class DockerPlatform(pulumi.ComponentResource):
    """Provider and zone networks of one environment; deploys services into them."""

    pull_provider: docker.Provider | None = None
    """Pulls remote images when the stack has registry credentials (components/targets/docker/access.py)."""

    def __init__(self, name: str, args: DockerTargetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:docker:Platform", name, None, opts)
        self._name = name
        self.settings = args.settings
        self._config = args.docker
        self.prefix = f"dreamscape-{args.settings.environment}"
        self.provider = docker.Provider(
            f"{name}-provider", host=args.docker.host, opts=args.settings.provider_opts(self)
        )
        self.networks = {
            zone: docker.Network(
                f"{name}-{zone.value}",
                name=f"{self.prefix}-{zone.value}",
                # Data zones never route to the outside world.
                internal=zone in DATA_ZONES,
                labels=[
                    docker.NetworkLabelArgs(label=k, value=v)
                    for k, v in sorted(self._label_map({ZONE_LABEL: zone.value}).items())
                ],
                opts=self._opts(self),
            )
            for zone in Zone
        }
        self._images: dict[str, docker.RemoteImage] = {}
        self._builds: dict[str, docker_build.Image] = {}
        self._build_provider: docker_build.Provider | None = None
        self._publish: dict[str, docker.Network] = {}
        self.register_outputs({"networks": {z.value: n.name for z, n in self.networks.items()}})

    # -- helpers -------------------------------------------------------------------------------
    def _opts(self, parent: pulumi.Resource, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **kwargs)  # type: ignore[arg-type]

    def _label_map(self, extra: Mapping[str, Text] | None = None) -> dict[str, Text]:
        return {MANAGED_BY: self.settings.environment, **self.settings.annotations, **(extra or {})}

    def _labels(self, extra: Mapping[str, Text] | None = None) -> list[docker.ContainerLabelArgs]:
        return [docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(self._label_map(extra).items())]

    def _image(self, ref: str | pulumi.Output[str] | ImageBuild, parent: pulumi.Resource,
               owner: str) -> pulumi.Output[str]:
        if isinstance(ref, ImageBuild):
            return self._build(ref, parent, owner)
        if not isinstance(ref, str):
            return ref  # already an image id/name
        if ref not in self._images:
            self._images[ref] = docker.RemoteImage(
                f"{owner}-image", name=ref, keep_locally=True,
                opts=pulumi.ResourceOptions(parent=parent, provider=self.pull_provider or self.provider),
            )
        return self._images[ref].image_id

    def _build(self, build: ImageBuild, parent: pulumi.Resource, owner: str) -> pulumi.Output[str]:
        """A local BuildKit build, loaded into the developer's daemon and never pushed.

        pulumi-docker-build (the successor of `docker.Image`) passes BuildKit named contexts, so the main
        context is only the application sources and the rendered configs come from their own directory.
        The resource keeps its name (`<owner>-build`) but is a new type of another provider package: an
        alias to the old `docker:index/image:Image` would hand that provider's state to this one, and a
        local build has nothing worth keeping, so the first `up` after the switch simply builds again."""
        if self._build_provider is None:
            # Gated like every provider: a refused stateful change builds nothing.
            self._build_provider = docker_build.Provider(
                f"{self.prefix}-build-provider", host=self._config.host,
                opts=self.settings.provider_opts(self),
            )
        if build.name not in self._builds:
            self._builds[build.name] = docker_build.Image(
                f"{owner}-build",
                tags=[build.name],
                context=docker_build.BuildContextArgs(
                    location=build.context,
                    named={
                        name: docker_build.ContextArgs(location=location)
                        for name, location in sorted(build.named_contexts.items())
                    } or None,
                ),
                dockerfile=docker_build.DockerfileArgs(location=build.dockerfile),
                target=build.target,
                build_args=dict(build.args) or None,
                push=False,
                load=True,
                opts=pulumi.ResourceOptions(parent=parent, provider=self._build_provider),
            )
        image = self._builds[build.name]
        # The tag (not `ref`, which may carry a registry digest a local image does not have), known once
        # the build is done, so the container waits for it.
        return pulumi.Output.all(image.ref, build.name).apply(lambda values: str(values[1]))

    def _networks(self, zone: Zone, reaches: frozenset[Zone], aliases: list[str]) -> list[
        docker.ContainerNetworksAdvancedArgs
    ]:
        joined = [zone, *sorted(reaches - {zone})]
        return [docker.ContainerNetworksAdvancedArgs(name=self.networks[z].name, aliases=aliases) for z in joined]

    def _container_args(self, container: Container) -> dict[str, object]:
        if container.trusts_ca:
            raise ValueError("the Docker target has no PKI (PlatformFacts.transit_tls is false): no CA to mount")
        envs = [pulumi.Output.concat(k, "=", v) for k, v in sorted(container.env.items())]
        envs += [pulumi.Output.concat(k, "=", v) for k, v in sorted(container.secret_env.items())]
        uploads = [
            docker.ContainerUploadArgs(file=secret.path, content=secret.value, permissions="0444")
            for secret in container.secret_files
        ] + [
            docker.ContainerUploadArgs(
                file=f.path,
                content=pulumi.Output.secret(f.content) if f.secret else f.content,
                permissions="0444",
            )
            for f in container.config_files
        ]
        security = container.security
        return {
            "image": None,
            "command": list(container.args) if container.args else None,
            "entrypoints": list(container.command) if container.command else None,
            "envs": envs,
            "uploads": uploads,
            "working_dir": container.working_dir,
            "memory": memory_bytes(container.resources.memory_limit) // 2**20,
            "memory_reservation": memory_bytes(container.resources.memory_request) // 2**20,
            "cpus": str(cpu_millicores(container.resources.cpu_limit) / 1000),
            "read_only": security.read_only_root_filesystem,
            "tmpfs": {path: "rw,size=64m" for path in security.scratch_paths}
            if security.read_only_root_filesystem
            else None,
            "volumes": [
                docker.ContainerVolumeArgs(
                    host_path=m.host_path, container_path=m.mount_path, read_only=m.read_only
                )
                for m in container.host_mounts
            ],
            "security_opts": ["no-new-privileges:true"],
        }

    @staticmethod
    def _preserved(container: Container) -> list[docker.ContainerMountArgs]:
        """Anonymous volumes (seeded from the image) that keep e.g. node_modules under a source mount."""
        return [docker.ContainerMountArgs(target=path, type="volume") for path in container.preserved_paths]

    def _publish_network(self, service: Service, parent: pulumi.Resource) -> list[
        docker.ContainerNetworksAdvancedArgs
    ]:
        """Docker cannot publish ports of a container that sits only on internal networks. Such a
        service gets a private bridge of its own, so publishing works without joining zones."""
        publishes = any(p.host_port is not None for p in service.ports)
        if not publishes or service.zone not in DATA_ZONES:
            return []
        if service.name not in self._publish:
            self._publish[service.name] = docker.Network(
                f"{service.name}-publish",
                name=f"{self.prefix}-{service.name}-publish",
                internal=False,
                labels=[docker.NetworkLabelArgs(label=k, value=v)
                        for k, v in sorted(self._label_map({"dreamscape.io/publish": service.name}).items())],
                opts=self._opts(parent),
            )
        return [docker.ContainerNetworksAdvancedArgs(name=self._publish[service.name].name)]

    def _gate_labels(self, after: Sequence[Deployed]) -> list[docker.ContainerLabelArgs]:
        """One label per gating task, its value the task's exit status: a container that ran but failed
        (the provider records its exit code without failing) stops the service's rollout here."""
        labels = []
        for deployed in after:
            task = deployed.service
            if not isinstance(task, Task) or not task.gates:
                continue
            for resource in deployed.ready:
                assert isinstance(resource, docker.Container), f"{task.name}: a task runs as a container"
                name = f"{self.prefix}-{task.name}"
                verdict = resource.exit_code.apply(partial(gate_verdict, task.name, name))
                labels.append(docker.ContainerLabelArgs(label=f"dreamscape.io/after-{task.name}", value=verdict))
        return labels

    # -- Target protocol -----------------------------------------------------------------------
    def deploy_service(self, service: Service, parent: pulumi.Resource,
                       after: Sequence[Deployed] = ()) -> Deployed:
        if service.certificate is not None:
            raise ValueError(f"{service.name}: the Docker target has no PKI (PlatformFacts.transit_tls is false) "
                             "to issue a server certificate from")
        image = self._image(service.container.image, parent, service.name)
        ready: list[pulumi.Resource] = []
        probe = service.probes.readiness or service.probes.liveness
        if probe is not None and probe.tcp_port is not None:
            # Docker has no native TCP check and minimal images ship no `nc`: such services get no
            # healthcheck (Kubernetes runs the TCP probe itself).
            probe = None
        startup = service.probes.startup
        start_period = (
            startup.initial_delay_seconds + startup.period_seconds * startup.failure_threshold if startup else 30
        )
        for ordinal, member in enumerate(member_names(service)):
            mounts = self._preserved(service.container)
            for volume in service.volumes:
                data = docker.Volume(
                    f"{member}-{volume.name}",
                    name=f"{self.prefix}-{member}-{volume.name}",
                    labels=[
                        docker.VolumeLabelArgs(label=k, value=v)
                        for k, v in sorted(self._label_map({"dreamscape.io/service": service.name}).items())
                    ],
                    # Dev data outlives `pulumi destroy`; `tools/reset nuclear` removes it on purpose.
                    opts=self._opts(parent, retain_on_delete=True, protect=self.settings.protect),
                )
                mounts.append(docker.ContainerMountArgs(target=volume.mount_path, type="volume", source=data.name))
            aliases = [service.name]
            if member != service.name:
                aliases += [member, f"{member}.{peers_name(service.name)}"]
            args = self._container_args(service.container)
            args["image"] = image
            ports = [
                docker.ContainerPortArgs(
                    internal=port.number,
                    external=port.host_port,
                    ip=str(self._config.publish_address),
                    protocol=port.protocol.lower(),
                )
                for port in service.ports
                if port.host_port is not None and ordinal == 0
            ]
            container = docker.Container(  # type: ignore[call-overload]  # **args is built by _container_args
                member,
                name=f"{self.prefix}-{member}",
                hostname=member,
                ports=ports,
                mounts=mounts,
                networks_advanced=[*self._networks(service.zone, service.reaches | service.scrapes, aliases),
                                   *self._publish_network(service, parent)],
                healthcheck=healthcheck(probe, start_period) if probe else None,
                wait=probe is not None,
                wait_timeout=max(start_period * 2, 120),
                restart="unless-stopped",
                must_run=True,
                labels=self._labels(
                    {**workload_labels(service.name, service.component, self.settings.environment,
                                       service.zone, service.reaches | service.scrapes),
                     **service.labels, **service.annotations}
                ) + self._gate_labels(after),
                opts=self._opts(parent, depends_on=[*self.networks.values(),
                                                    *(r for d in after for r in d.ready)]),
                **args,
            )
            ready.append(container)
        return Deployed(service=service, ready=tuple(ready))

    def run_task(self, task: Task, parent: pulumi.Resource, after: Sequence[Deployed]) -> pulumi.Resource | None:
        """A one-shot container: the provider attaches, waits for it to exit, and keeps its logs.

        Docker has no scheduler, so recurring tasks (backups) are skipped; dev has `tools/dev_db.py`."""
        if task.schedule is not None:
            return None
        if task.init is not None:
            raise ValueError(f"{task.name}: the Docker target runs a one-shot task as one container; "
                             "an init step is supported for scheduled tasks only (which Docker skips)")
        args = self._container_args(task.container)
        # A gate builds the image of the service it gates, under that service's name (the build is shared).
        args["image"] = self._image(task.container.image, parent, task.gates[0] if task.gates else task.name)
        task_container: docker.Container = docker.Container(  # type: ignore[call-overload]  # **args: _container_args
            task.name,
            name=f"{self.prefix}-{task.name}",
            networks_advanced=self._networks(task.zone, task.reaches, [task.name]),
            must_run=False,
            attach=True,
            logs=True,
            restart="no",
            labels=self._labels({
                **workload_labels(task.name, task.component, self.settings.environment, task.zone, task.reaches),
                "dreamscape.io/task": "true",
                "dreamscape.io/run-id": task.run_id,
            }),
            opts=self._opts(parent, depends_on=[r for d in after for r in d.ready]),
            **args,
        )
        return task_container


    def expose(self, routes: Sequence[Route], parent: pulumi.Resource) -> dict[str, str]:
        """Routes are the services' published ports on the developer's machine (plain HTTP, no edge)."""
        del parent
        address = self._config.publish_address
        host = "localhost" if address.is_loopback or address.is_unspecified else str(address)
        urls = {}
        for route in routes:
            if route.host_port is None:
                continue
            port = "" if route.host_port == 80 else f":{route.host_port}"
            urls[route.name] = f"{route.plain_scheme}://{host}{port}{route.path.rstrip('/')}"
        return urls

    def grant_access(self, access: Access, parent: pulumi.Resource) -> None:
        access_grants.grant(self, access, parent)


def gate_verdict(task: str, container: str, exit_code: int | None) -> str:
    """`passed` for a gate that exited 0; otherwise the run stops here, naming the task and its logs."""
    if exit_code is None or exit_code == 0:  # None: not run yet (preview), nothing to judge
        return "passed"
    raise pulumi.RunError(
        f"{task} failed (exit code {exit_code}); the services it gates were not started or updated. "
        f"Its output: `docker logs {container}`. Fix the migration and run `make up` again (a new image "
        f"runs it again; after a transient failure, `pulumi up --replace` its container's URN)."
    )


def create(config: StackConfig, settings: TargetSettings, opts: pulumi.ResourceOptions | None = None) -> DockerPlatform:
    return DockerPlatform("docker", DockerTargetArgs(settings=settings, docker=config.docker), opts)
