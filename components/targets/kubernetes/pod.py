"""Pure builders for Kubernetes pod templates from a `spec.Container` (no resources created here).

Everything is hardened to the `restricted` Pod Security Standard: non-root with a fixed UID,
no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, read-only root filesystem
unless the image cannot run that way, and no service-account token.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import defaultdict
from typing import Any

from components.spec import SECRETS_DIR, ConfigFile, Container, ImageBuild, Probe, Probes
from components.spec.tls import CA_DIR, CA_FILE
from components.targets.kubernetes.pki import CA_NAME

JsonDict = dict[str, Any]


def key_for(path: str) -> str:
    """A ConfigMap/Secret key for a file path (`/etc/redis/redis.conf` -> `etc-redis-redis.conf`)."""
    return re.sub(r"[^-._a-zA-Z0-9]", "-", path.strip("/"))


def env_key(name: str) -> str:
    return f"env-{name}"


def probe(spec: Probe) -> JsonDict:
    handler: JsonDict
    if spec.command is not None:
        handler = {"exec_": {"command": list(spec.command)}}
    elif spec.http_path is not None:
        handler = {"http_get": {"path": spec.http_path, "port": spec.port,
                                **({"scheme": "HTTPS"} if spec.https else {})}}
    else:
        handler = {"tcp_socket": {"port": spec.tcp_port}}
    return {
        **handler,
        "initial_delay_seconds": spec.initial_delay_seconds,
        "period_seconds": spec.period_seconds,
        "timeout_seconds": spec.timeout_seconds,
        "failure_threshold": spec.failure_threshold,
    }


def probes(spec: Probes) -> JsonDict:
    result: JsonDict = {}
    if spec.readiness:
        result["readiness_probe"] = probe(spec.readiness)
    if spec.liveness:
        result["liveness_probe"] = probe(spec.liveness)
    if spec.startup:
        result["startup_probe"] = probe(spec.startup)
    return result


def file_volumes(
    files: tuple[ConfigFile, ...], config_map: str | None, secret: str | None
) -> tuple[list[JsonDict], list[JsonDict]]:
    """One projected volume per directory, mixing ConfigMap and Secret sources, so a secret include
    file can sit next to a plain config file."""
    by_dir: dict[str, list[ConfigFile]] = defaultdict(list)
    for f in files:
        by_dir[posixpath.dirname(f.path)].append(f)
    volumes, mounts = [], []
    for index, (directory, group) in enumerate(sorted(by_dir.items())):
        sources: list[JsonDict] = []
        plain = [f for f in group if not f.secret]
        hidden = [f for f in group if f.secret]
        if plain:
            sources.append({"config_map": {"name": config_map, "items": [
                {"key": key_for(f.path), "path": posixpath.basename(f.path)} for f in plain]}})
        if hidden:
            sources.append({"secret": {"name": secret, "items": [
                {"key": key_for(f.path), "path": posixpath.basename(f.path)} for f in hidden]}})
        name = f"files-{index}"
        volumes.append({"name": name, "projected": {"sources": sources, "default_mode": 0o444}})
        mounts.append({"name": name, "mount_path": directory, "read_only": True})
    return volumes, mounts


def container_spec(name: str, spec: Container, secret_name: str | None, ports: list[JsonDict],
                   probe_spec: Probes, extra_mounts: list[JsonDict], *,
                   config_map_name: str | None = None) -> tuple[JsonDict, list[JsonDict]]:
    """The container and the pod volumes it needs. `config_map_name` defaults to `<name>-config`."""
    if isinstance(spec.image, ImageBuild):
        raise ValueError(
            f"{name}: the Kubernetes target pulls images from a registry and never builds "
            f"{spec.image.name!r}; reference a pushed, pinned image (<registry>/<name>:<tag>)"
        )
    source_mounts = [m for m in spec.host_mounts if not m.node]
    if source_mounts:
        raise ValueError(f"{name}: source mounts (hot reload) exist only on the Docker target")
    env: list[JsonDict] = [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
    env += [
        {"name": k, "value_from": {"field_ref": {"field_path": path}}} for k, path in sorted(spec.field_env.items())
    ]
    env += [
        {"name": k, "value_from": {"secret_key_ref": {"name": secret_name, "key": env_key(k)}}}
        for k in sorted(spec.secret_env)
    ]
    volumes: list[JsonDict] = []
    mounts: list[JsonDict] = list(extra_mounts)
    if spec.secret_files:
        volumes.append({"name": "secrets", "secret": {
            "secret_name": secret_name,
            "default_mode": 0o440,
            "items": [{"key": s.key, "path": s.key} for s in spec.secret_files],
        }})
        mounts.append({"name": "secrets", "mount_path": SECRETS_DIR, "read_only": True})
    if spec.trusts_ca:
        volumes.append(ca_volume())
        mounts.append({"name": "ca", "mount_path": CA_DIR, "read_only": True})
    config_map = None
    if any(not f.secret for f in spec.config_files):
        config_map = config_map_name or f"{name}-config"
    file_vols, file_mounts = file_volumes(spec.config_files, config_map, secret_name)
    volumes += file_vols
    mounts += file_mounts
    for index, node_mount in enumerate(spec.host_mounts):
        volumes.append({"name": f"node-{index}", "host_path": {"path": node_mount.host_path}})
        mounts.append({"name": f"node-{index}", "mount_path": node_mount.mount_path,
                       "read_only": node_mount.read_only})
    security = spec.security
    if security.read_only_root_filesystem:
        for index, path in enumerate(security.scratch_paths):
            volumes.append({"name": f"scratch-{index}", "empty_dir": {"size_limit": "256Mi"}})
            mounts.append({"name": f"scratch-{index}", "mount_path": path})
    container: JsonDict = {
        "name": name,
        "image": spec.image,
        "image_pull_policy": "IfNotPresent",
        "env": env,
        "ports": ports,
        "volume_mounts": mounts,
        "resources": {
            "requests": {"cpu": spec.resources.cpu_request, "memory": spec.resources.memory_request},
            "limits": {"cpu": spec.resources.cpu_limit, "memory": spec.resources.memory_limit},
        },
        "security_context": {
            "allow_privilege_escalation": False,
            "read_only_root_filesystem": security.read_only_root_filesystem,
            "run_as_non_root": True,
            "run_as_user": security.run_as_user,
            "run_as_group": security.run_as_group,
            "capabilities": {"drop": ["ALL"]},
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        **probes(probe_spec),
    }
    if spec.command:
        container["command"] = list(spec.command)
    if spec.args:
        container["args"] = list(spec.args)
    if spec.working_dir:
        container["working_dir"] = spec.working_dir
    return container, volumes


def ca_volume() -> JsonDict:
    """Only the certificate of the environment's CA (public), never its key, from the CA's Secret."""
    return {"name": "ca", "secret": {"secret_name": CA_NAME, "default_mode": 0o444,
                                     "items": [{"key": "ca.crt", "path": CA_FILE.rsplit("/", 1)[1]}]}}


def pod_security(spec: Container) -> JsonDict:
    security = spec.security
    context: JsonDict = {
        "run_as_non_root": True,
        "run_as_user": security.run_as_user,
        "run_as_group": security.run_as_group,
        "seccomp_profile": {"type": "RuntimeDefault"},
    }
    if security.fs_group is not None:
        context["fs_group"] = security.fs_group
        context["fs_group_change_policy"] = "OnRootMismatch"
    return context


def config_hash(files: tuple[ConfigFile, ...]) -> str | None:
    """A checksum of plain (string) config files, so a config change rolls the pods."""
    texts = [f"{f.path}\n{f.content}" for f in files if isinstance(f.content, str) and not f.secret]
    if not texts:
        return None
    return hashlib.sha256("\n".join(sorted(texts)).encode()).hexdigest()[:16]


def prefixed_volumes(prefix: str, container: JsonDict, volumes: list[JsonDict]) -> list[JsonDict]:
    """Rename a container's own pod volumes (`secrets` -> `<prefix>-secrets`) so a second container of
    the same pod (an init container) can bring its own without a name clash."""
    renames = {v["name"]: f"{prefix}-{v['name']}" for v in volumes}
    for mount in container["volume_mounts"]:
        mount["name"] = renames.get(mount["name"], mount["name"])
    return [{**v, "name": renames[v["name"]]} for v in volumes]
