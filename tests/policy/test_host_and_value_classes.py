"""Each class the pack advertises, driven through the analyzer servicer the way the CLI drives it.

For every class and both targets (Kubernetes objects and Docker containers) one violating resource is
caught by the named policy and one compliant resource passes the whole pack.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dreamscape_policy import PACK_NAME, all_policies
from dreamscape_policy.secrets import secret_arguments, secret_contents, url_with_password
from pulumi.runtime import proto
from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer

from tests.policy.fakes import CONFIG_MAP, DEPLOYMENT, DOCKER_CONTAINER, main_container, pod_of, workload

REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
HOST_NETWORK = "no-host-network-or-host-ports"
HOST_NAMESPACES = "no-host-pid-or-ipc"
CAPABILITIES = "no-added-capabilities"
HOST_PATH = "host-paths-confined"
SECRETS = "no-plaintext-secrets"
NON_ROOT = "containers-run-as-non-root"


def analyze(resource_type: str, props: dict[str, Any]) -> dict[str, str]:
    """One AnalyzeRequest through the pack's real gRPC servicer, as `pulumi preview --policy-pack` sends it."""
    server: Any = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", all_policies(), EnforcementLevel.MANDATORY)
    request = proto.AnalyzeRequest(
        type=resource_type, properties=props, urn=f"urn:pulumi:dev::dreamscape::{resource_type}::api", name="api",
        options=proto.AnalyzerResourceOptions(protect=True),
    )
    response = server.Analyze(request, None)
    return {d.policyName: d.message for d in response.diagnostics}


def k8s(resource_type: str = DEPLOYMENT, namespace: str = "dreamscape-dev",
        change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    props = workload(resource_type)
    props["metadata"]["namespace"] = namespace
    if resource_type == REPLICA_SET:
        props["spec"]["selector"] = {"matchLabels": props["spec"]["template"]["metadata"]["labels"]}
    if change is not None:
        change(props)
    return props


def docker(**fields: Any) -> dict[str, Any]:
    """A Docker container like the dev target renders it: loopback ports, hardened, secrets as files."""
    props: dict[str, Any] = {
        "name": "api", "image": "ghcr.io/dreamscape/api:1.4.2", "user": "1000:1000",
        "envs": ["LOG_LEVEL=info", "JWT_SECRET_FILE=/run/secrets/jwt"],
        "ports": [{"internal": 8080, "external": 3001, "ip": "127.0.0.1"}],
        "volumes": [{"hostPath": "/home/dev/dreamscape-services/auth", "containerPath": "/app"}],
        "capabilities": {"drops": ["ALL"]}, "readOnly": True,
    }
    props.update(fields)
    return props


def config_map(data: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": "api-config", "namespace": "dreamscape-dev"}, "data": data}


def _set(path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        path(props)[key] = value
    return change


def _container_port_on_host(props: dict[str, Any]) -> None:
    main_container(props)["ports"][0]["hostPort"] = 8080


def _add_capability(name: str) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        main_container(props)["securityContext"]["capabilities"]["add"] = [name]
    return change


def _host_path(read_only: bool) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        pod_of(props)["volumes"].append({"name": "pods", "hostPath": {"path": "/var/log/pods"}})
        main_container(props)["volumeMounts"].append({"name": "pods", "mountPath": "/var/log/pods",
                                                     "readOnly": read_only})
    return change


def _env(name: str, value: str) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        main_container(props)["env"].append({"name": name, "value": value})
    return change


def _command(*command: str) -> Callable[[dict[str, Any]], None]:
    def change(props: dict[str, Any]) -> None:
        main_container(props)["command"] = list(command)
    return change


def _root(props: dict[str, Any]) -> None:
    main_container(props)["securityContext"]["runAsUser"] = 0


SYMLINK_TO_ETC = Path(tempfile.mkdtemp(prefix="dreamscape-policy-")) / "etc-link"
"""A checkout-looking path that is a symlink to /etc: the policy runs where the Docker host is."""
SYMLINK_TO_ETC.symlink_to("/etc")


@dataclass(frozen=True)
class Case:
    policy: str
    resource_type: str
    violating: dict[str, Any]
    compliant: dict[str, Any]


CASES = {
    "k8s hostNetwork": Case(HOST_NETWORK, DEPLOYMENT, k8s(change=_set(pod_of, "hostNetwork", True)),
                            k8s(change=_set(pod_of, "hostNetwork", False))),
    "k8s hostPort": Case(HOST_NETWORK, DEPLOYMENT, k8s(change=_container_port_on_host), k8s()),
    "docker host network": Case(HOST_NETWORK, DOCKER_CONTAINER, docker(networkMode="host"),
                                docker(networkMode="bridge")),
    "docker port on every address": Case(HOST_NETWORK, DOCKER_CONTAINER,
                                         docker(ports=[{"internal": 8080, "external": 3001}]),
                                         docker(ports=[{"internal": 8080, "external": 3001, "ip": "::1"}])),
    "k8s added capability": Case(CAPABILITIES, DEPLOYMENT, k8s(change=_add_capability("SYS_ADMIN")),
                                 k8s(change=_add_capability("NET_BIND_SERVICE"))),
    "docker added capability": Case(CAPABILITIES, DOCKER_CONTAINER,
                                    docker(capabilities={"adds": ["NET_ADMIN"], "drops": ["ALL"]}),
                                    docker(capabilities={"adds": ["CAP_NET_BIND_SERVICE"], "drops": ["ALL"]})),
    "docker privileged": Case(CAPABILITIES, DOCKER_CONTAINER, docker(privileged=True), docker(privileged=False)),
    "k8s hostPath outside node agents": Case(HOST_PATH, DAEMON_SET, k8s(DAEMON_SET, change=_host_path(True)),
                                             k8s(DAEMON_SET, "dreamscape-dev-node-agents", _host_path(True))),
    "k8s writable hostPath": Case(HOST_PATH, DAEMON_SET,
                                  k8s(DAEMON_SET, "dreamscape-dev-node-agents", _host_path(False)),
                                  k8s(DAEMON_SET, "dreamscape-dev-node-agents", _host_path(True))),
    "docker system host path": Case(HOST_PATH, DOCKER_CONTAINER,
                                    docker(mounts=[{"type": "bind", "source": "/etc", "target": "/host-etc"}]),
                                    docker(mounts=[{"type": "bind", "source": "/home/dev/src", "target": "/src"}])),
    "docker system path through a symlink": Case(
        HOST_PATH, DOCKER_CONTAINER,
        docker(mounts=[{"type": "bind", "source": str(SYMLINK_TO_ETC), "target": "/src", "readOnly": True}]),
        docker(mounts=[{"type": "bind", "source": str(SYMLINK_TO_ETC.parent), "target": "/src"}])),
    "docker system path through '..'": Case(
        HOST_PATH, DOCKER_CONTAINER,
        docker(mounts=[{"type": "bind", "source": "/home/dev/../../etc", "target": "/src"}]),
        docker(mounts=[{"type": "bind", "source": "/home/dev/src/../other", "target": "/src"}])),
    "docker writable docker socket": Case(HOST_PATH, DOCKER_CONTAINER,
                                          docker(volumes=[{"hostPath": "/var/run/docker.sock",
                                                           "containerPath": "/var/run/docker.sock"}]),
                                          docker(volumes=[{"hostPath": "/var/run/docker.sock", "readOnly": True,
                                                           "containerPath": "/var/run/docker.sock"}])),
    "k8s hostPID": Case(HOST_NAMESPACES, DEPLOYMENT, k8s(change=_set(pod_of, "hostPID", True)), k8s()),
    "k8s hostIPC": Case(HOST_NAMESPACES, DEPLOYMENT, k8s(change=_set(pod_of, "hostIPC", True)), k8s()),
    "docker host pid": Case(HOST_NAMESPACES, DOCKER_CONTAINER, docker(pidMode="host"), docker()),
    "ReplicaSet pod rules": Case(NON_ROOT, REPLICA_SET, k8s(REPLICA_SET, change=_root), k8s(REPLICA_SET)),
    "k8s URL with password": Case(SECRETS, DEPLOYMENT,
                                  k8s(change=_env("DATABASE_URL", "postgres://app:hunter2@postgres:5432/app")),
                                  k8s(change=_env("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@postgres/app"))),
    "docker URL with password": Case(SECRETS, DOCKER_CONTAINER,
                                     docker(envs=["CACHE_URL=redis://:hunter2@redis:6379/0"]),
                                     docker(envs=["CACHE_URL=redis://redis:6379/0"])),
    "k8s password argument": Case(SECRETS, DEPLOYMENT, k8s(change=_command("redis-server", "--requirepass", "hunter2")),
                                  k8s(change=_command("redis-server", "/etc/redis/redis.conf"))),
    "k8s password in a shell script": Case(
        SECRETS, DEPLOYMENT, k8s(change=_command("sh", "-c", "PGPASSWORD=hunter2 psql -h postgres")),
        k8s(change=_command("sh", "-c", 'PGPASSWORD="$(cat /run/secrets/pg)" psql -h postgres'))),
    "docker password argument": Case(SECRETS, DOCKER_CONTAINER, docker(command=["app", "--db-password=hunter2"]),
                                     docker(command=["app", "--db-password-file=/run/secrets/db"])),
    "ConfigMap password key in contents": Case(
        SECRETS, CONFIG_MAP, config_map({"app.yaml": "db:\n  host: postgres\n  password: hunter2\n"}),
        config_map({"app.yaml": "db:\n  host: postgres\n  password_file: /run/secrets/db\n"})),
    "ConfigMap SQL password literal": Case(
        SECRETS, CONFIG_MAP, config_map({"init.sql": "ALTER ROLE app WITH LOGIN PASSWORD 'hunter2';"}),
        config_map({"init.sql": "ALTER ROLE app WITH LOGIN PASSWORD :'app_password';"})),
    "ConfigMap URL with password": Case(
        SECRETS, CONFIG_MAP, config_map({"datasource.yml": "url: http://admin:hunter2@grafana:3000\n"}),
        config_map({"datasource.yml": "url: http://grafana:3000\npassword: $__file{/run/secrets/grafana}\n"})),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_violating_resource_is_caught_by_its_policy(case: Case) -> None:
    found = analyze(case.resource_type, copy.deepcopy(case.violating))
    assert case.policy in found, f"{case.policy} must catch the violating {case.resource_type}, got {found}"
    assert "hunter2" not in found[case.policy], "messages never repeat the secret value"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_compliant_resource_passes_the_whole_pack(case: Case) -> None:
    found = analyze(case.resource_type, copy.deepcopy(case.compliant))
    assert found == {}, f"the compliant {case.resource_type} passes every policy, got {found}"


def test_a_url_with_a_password_in_a_docker_env_var_is_caught_whatever_its_name() -> None:
    # mc reads its credentials from its config file now: MC_HOST_<alias> has no exemption any more.
    for env in ("MC_HOST_local=http://admin:hunter2@minio:9000", "S3_URL=http://admin:hunter2@minio:9000"):
        assert SECRETS in analyze(DOCKER_CONTAINER, docker(envs=[env])), f"{env.split('=')[0]} is caught"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://u:p4ss@h/db", True), ("postgres://u@h/db", False), ("https://h/x?a=b@c", False),
        ("http://u:${PASSWORD}@h", False), ("amqp://u:%(password)s@h", False), ("PLAINTEXT://$(hostname):9092", False),
        ("postgres://app:hun'ter2@db/app", True), ('postgres://app:pa"ss@db/app', True),
        ("postgres://o'brien:secret@db/app", True),
    ],
)
def test_url_passwords_are_found_and_placeholders_are_not(text: str, expected: bool) -> None:
    assert url_with_password(text) is expected, f"{text!r}: password found should be {expected}"


def test_argument_and_content_scanners_leave_the_programs_own_patterns_alone() -> None:
    assert secret_arguments(["-c", "password_encryption=scram-sha-256"]) == [], "a GUC that names no secret"
    assert secret_arguments(["sh", "-c", 'export PGPASSWORD="$(cat /run/secrets/x)"; psql']) == [], "file read"
    assert secret_arguments(["--token", "abc"]) == ["token"], "a literal token flag is caught"
    assert secret_contents("admin_password = $__file{/run/secrets/grafana}\n") == [], "Grafana file reference"
    assert secret_contents("[security]\nadmin_password = hunter2\n") == ["admin_password"], "INI literal caught"
