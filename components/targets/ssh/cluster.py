"""The k3s cluster, provisioned over SSH with pulumi-command.

Per node, in rollout order (components/cluster/nodes.py), a chain of four steps: drain the node (from
the first server), upload the release binary, install it (the node verifies its checksum first), then
wait until the node is Ready and uncordon it. Each node's chain waits for the previous node's, so a
first `pulumi up` joins the servers one at a time and a version change upgrades servers first, then
agents, one node at a time, and stops at the first node that does not come back.

Why ordered remote commands rather than the system-upgrade-controller (`upgrade.cattle.io/v1` Plans):
the controller pulls `rancher/k3s-upgrade` and the release from the network inside the cluster and only
checks the release's own checksum file, not a checksum this repository pins; its Plan CRD is installed
by the controller itself, so the Plans cannot be previewed on a new cluster; and it cannot bootstrap
the nodes it would upgrade. The remote commands verify the pinned SHA-256 on every node, preview as
plain script text, and are the same code path for the first install and every upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_random as random

from components.cluster import scripts
from components.cluster.k3s_config import JoinSecrets, node_config, render_config
from components.cluster.kubeconfig import pointed_at
from components.cluster.nodes import Node, rollout
from components.cluster.paths import NodePaths
from components.config.cluster import ClusterConfig, ClusterHost, ClusterSshConfig
from components.config.offsite import OffsiteConfig

TOKEN_LENGTH = 48


@dataclass(frozen=True, kw_only=True)
class K3sClusterArgs:
    cluster: ClusterConfig
    ssh: ClusterSshConfig
    offsite: OffsiteConfig
    binary_root: Path
    """The directory `k3s.binaryDir` is relative to (this repository)."""
    protect: bool
    """Protect the join token: replacing it locks every node out of the cluster."""
    paths: NodePaths = field(default_factory=NodePaths)


@dataclass(frozen=True)
class Control:
    """The first server, where kubectl steps (drain, uncordon) and the kubeconfig read run."""

    connection: command.remote.ConnectionArgs
    user: str


class K3sCluster(pulumi.ComponentResource):
    """Every node of one k3s cluster, and its admin kubeconfig as a secret."""

    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: K3sClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:cluster:K3sCluster", name, None, opts)
        cluster = args.cluster
        token = random.RandomPassword(
            f"{name}-token",
            length=TOKEN_LENGTH,
            special=False,
            keepers={"generation": str(cluster.token_generation)},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        access_key: pulumi.Output[str] = pulumi.Output.secret(args.offsite.access_key_id.get_secret_value())
        secret_key: pulumi.Output[str] = pulumi.Output.secret(args.offsite.secret_access_key.get_secret_value())
        join_token: pulumi.Output[str] = pulumi.Output.secret(token.result)
        secrets: pulumi.Output[JoinSecrets] = pulumi.Output.all(join_token, access_key, secret_key).apply(
            lambda values: JoinSecrets(token=values[0], s3_access_key=values[1], s3_secret_key=values[2]))
        release = scripts.Release(version=cluster.k3s.version, sha256=cluster.checksum())
        binary = args.binary_root / cluster.k3s.binary_dir / release.version / "k3s"
        nodes = rollout(cluster)
        control = Control(connection=self._connection(args.ssh, nodes[0].host), user=nodes[0].host.ssh_user)
        previous: pulumi.Resource | None = None
        first_install: pulumi.Resource | None = None
        for node in nodes:
            install, previous = self._node(name, node, args, release, binary, secrets, control, previous)
            first_install = first_install or install
        read = command.remote.Command(
            f"{name}-kubeconfig",
            connection=control.connection,
            create=scripts.remote_command(scripts.read_kubeconfig(args.paths), control.user),
            triggers=[release.version],
            logging=command.remote.Logging.NONE,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[first_install] if first_install else [],
                                        additional_secret_outputs=["stdout"]),
        )
        endpoint = cluster.api_endpoint
        self.kubeconfig = pulumi.Output.secret(read.stdout.apply(lambda text: pointed_at(text, endpoint)))
        self.register_outputs({"kubeconfig": self.kubeconfig, "version": release.version})

    def _connection(self, ssh: ClusterSshConfig, host: ClusterHost) -> command.remote.ConnectionArgs:
        return command.remote.ConnectionArgs(
            host=host.address,
            port=host.ssh_port,
            user=host.ssh_user,
            private_key=pulumi.Output.secret(ssh.key_for(host).get_secret_value()),
            host_key=host.host_key,
        )

    def _node(self, name: str, node: Node, args: K3sClusterArgs, release: scripts.Release, binary: Path,
              secrets: pulumi.Output[JoinSecrets], control: Control,
              previous: pulumi.Resource | None) -> tuple[pulumi.Resource, pulumi.Resource]:
        """One node's chain: drain, upload, install, uncordon; returns its install and its last step."""
        host = node.host
        prefix = f"{name}-{host.name}"
        connection = self._connection(args.ssh, host)
        after_previous = [previous] if previous is not None else []
        drain = command.remote.Command(
            f"{prefix}-drain",
            connection=control.connection,
            create=scripts.remote_command(scripts.drain(host.name, args.paths), control.user),
            triggers=[release.version],
            opts=pulumi.ResourceOptions(parent=self, depends_on=after_previous),
        )
        upload = command.remote.CopyToRemote(
            f"{prefix}-binary",
            connection=connection,
            source=pulumi.FileAsset(str(binary)),
            remote_path=args.paths.staged_binary(release.version),
            triggers=[release.version, release.sha256],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[drain]),
        )
        # Secret end to end: the token and the S3 keys make the whole file secret (apply keeps the flag).
        config: pulumi.Output[str] = secrets.apply(lambda values: render_config(
            node_config(node, args.cluster, args.offsite, values, args.paths)))
        install = command.remote.Command(
            f"{prefix}-install",
            connection=connection,
            create=scripts.remote_command(scripts.install(node, release, args.paths), host.ssh_user),
            stdin=config,
            # A new release re-runs the install (the binary is replaced only after its checksum matches).
            triggers=[release.version, release.sha256],
            logging=command.remote.Logging.STDOUT_AND_STDERR,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[upload]),
        )
        uncordon = command.remote.Command(
            f"{prefix}-uncordon",
            connection=control.connection,
            create=scripts.remote_command(scripts.uncordon(host.name, args.paths), control.user),
            triggers=[release.version],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[install]),
        )
        return install, uncordon
