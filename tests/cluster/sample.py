"""The prod-cluster stack as an operator would have configured it, secrets included (fake values)."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from tests.harness import ROOT

STACK = "prod-cluster"
SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKESSHKEYMATERIALforTests\n-----END OPENSSH PRIVATE KEY-----\n"
S3_ACCESS_KEY = "AKIAFAKEOFFSITEACCESS"
S3_SECRET_KEY = "fakeOffsite/Secret+Key0123456789"
SECRET_KEYS = ("clusterSsh", "backup")
"""Set with --secret: the SSH keys (`clusterSsh`) and the S3 credentials (under `backup`)."""


def stack_file() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())["config"]
    return document


def overrides(**cluster_changes: Any) -> dict[str, Any]:
    """The stack file's cluster and backup blocks plus the secret values, with `cluster_changes` applied."""
    document = stack_file()
    cluster = copy.deepcopy(document["dreamscape:cluster"])
    cluster.update(cluster_changes)
    offsite = {**document["dreamscape:backup"]["offsite"], "accessKeyId": S3_ACCESS_KEY,
               "secretAccessKey": S3_SECRET_KEY}
    return {"cluster": cluster, "clusterSsh": {"privateKey": SSH_KEY}, "backup": {"offsite": offsite}}
