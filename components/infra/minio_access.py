"""Who may do what in MinIO: one user and one IAM policy per consumer, and the public-read bucket policy.

Only the provisioning tasks hold the root credentials. Every other consumer gets its own MinIO user whose
policy allows exactly what it does: the Big Pods read and write their buckets, the backup uploader lists,
writes and prunes its own prefix of the backup bucket. So an internet-facing pod cannot touch the
backups, and rotating one consumer's key rotates nobody else's.

The documents follow the AWS IAM policy grammar that MinIO implements (`Version` 2012-10-17, statements
of `Effect`, `Action`, `Resource` and an optional `Condition`; minio/pkg's policy package parses them):
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html

The provisioning script uses the `mc` syntax of the pinned client (minio/mc RELEASE.2025-08-13):
- `mc admin user add TARGET ACCESSKEY SECRETKEY` creates the user or sets the new key of an existing one;
- `mc admin policy create TARGET POLICYNAME POLICYFILE` creates or replaces the canned policy;
- `mc admin policy attach TARGET POLICY --user USER` treats an attachment already in effect
  (`XMinioAdminPolicyChangeAlreadyApplied`) as success;
- `mc anonymous set-json FILE TARGET` sets a bucket's anonymous policy.
Every step is idempotent, so the task runs again safely whenever a key is rotated.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components import spec

POLICY_VERSION = "2012-10-17"
"""The only current version of the IAM policy language (older `2008-10-17` lacks policy variables)."""
ARN_PREFIX = "arn:aws:s3:::"
POLICY_DIR = "/etc/dreamscape/minio-policies"
"""Where the provisioning task finds the policy documents (config files: policies hold no secret)."""

LIST_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket")
"""Finding objects: mc asks a bucket's location before anything else, then lists."""
READ_WRITE_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
"""Objects: read, write (multipart uploads included: MinIO checks them as `s3:PutObject`) and delete."""
PUBLIC_READ_ACTIONS = ("s3:GetObject",)
"""What anyone may do on a public bucket: download an object by its key. No listing."""


def bucket_arn(bucket: str) -> str:
    return f"{ARN_PREFIX}{bucket}"


def objects_arn(bucket: str, prefix: str | None = None) -> str:
    return f"{ARN_PREFIX}{bucket}/{prefix + '/' if prefix else ''}*"


@dataclass(frozen=True, kw_only=True)
class Grant:
    """One `Allow` statement."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    prefixes: tuple[str, ...] = ()
    """Restricts `s3:ListBucket` to these key prefixes (the `s3:prefix` condition key); empty: any."""

    def statement(self) -> dict[str, Any]:
        statement: dict[str, Any] = {"Effect": "Allow", "Action": sorted(self.actions),
                                     "Resource": sorted(self.resources)}
        if self.prefixes:
            statement["Condition"] = {"StringLike": {"s3:prefix": sorted(self.prefixes)}}
        return statement


def policy_document(grants: Iterable[Grant]) -> str:
    """An identity policy (attached to a user: no `Principal`)."""
    return json.dumps({"Version": POLICY_VERSION, "Statement": [g.statement() for g in grants]},
                      indent=2) + "\n"


def public_read_document(bucket: str) -> str:
    """A bucket policy: anyone (`Principal` `*`) may download the bucket's objects, nothing else."""
    return json.dumps({"Version": POLICY_VERSION, "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": list(PUBLIC_READ_ACTIONS),
        "Resource": [objects_arn(bucket)],
    }]}, indent=2) + "\n"


@dataclass(frozen=True, kw_only=True)
class Consumer:
    """One MinIO user, its policy and where its secret key is generated (`secret` names the SecretKind)."""

    user: str
    """The access key."""
    policy: str
    """The canned policy's name on the server. Keep it stable: `policy create` replaces a document in
    place, while a new name would leave the old policy attached beside it."""
    grants: tuple[Grant, ...]
    secret: str
    """The generated secret (components.secret_catalog) that is this user's secret key."""

    @property
    def key_file(self) -> str:
        """The secret file the provisioning task reads the key from."""
        return f"minio-key-{self.user}"

    @property
    def policy_file(self) -> str:
        return f"{POLICY_DIR}/{self.policy}.json"

    def document(self) -> str:
        return policy_document(self.grants)


def bucket_user(user: str, buckets: Iterable[str], *, secret: str, policy: str) -> Consumer:
    """List, read, write and delete in these buckets, and nothing anywhere else."""
    names = tuple(buckets)
    return Consumer(user=user, policy=policy, secret=secret, grants=(
        Grant(actions=LIST_ACTIONS, resources=tuple(bucket_arn(b) for b in names)),
        Grant(actions=READ_WRITE_ACTIONS, resources=tuple(objects_arn(b) for b in names)),
    ))


def prefix_user(user: str, bucket: str, prefix: str, *, secret: str, policy: str) -> Consumer:
    """List, read, write and delete below `<bucket>/<prefix>/` only: the rest of the bucket stays unseen."""
    return Consumer(user=user, policy=policy, secret=secret, grants=(
        Grant(actions=("s3:GetBucketLocation",), resources=(bucket_arn(bucket),)),
        # mc lists a "folder" both as `<prefix>` (stat) and `<prefix>/...`.
        Grant(actions=("s3:ListBucket",), resources=(bucket_arn(bucket),), prefixes=(prefix, f"{prefix}/*")),
        Grant(actions=READ_WRITE_ACTIONS, resources=(objects_arn(bucket, prefix),)),
    ))


@dataclass(frozen=True, kw_only=True)
class Provisioning:
    """What a task running `mc` as root needs to create buckets, users and policies."""

    script: str
    config_files: tuple[spec.ConfigFile, ...]
    secret_files: tuple[spec.SecretFile, ...]


def provisioning(alias: str, *, buckets: Iterable[str] = (), public: Iterable[str] = (),
                 consumers: Iterable[Consumer] = (), secrets: Mapping[str, pulumi.Output[str]]) -> Provisioning:
    """Idempotent steps, in order: buckets, public-read bucket policies, then per consumer its user (with
    the current key), its policy and the attachment. Keys are read from secret files, never written into
    the script."""
    q = shlex.quote
    public = tuple(public)
    users = tuple(consumers)
    steps = ["set -eu"]
    names = tuple(buckets)
    if names:
        steps.append(shlex.join(["mc", "mb", "--ignore-existing", *(f"{alias}/{b}" for b in names)]))
    configs = []
    for bucket in public:
        path = f"{POLICY_DIR}/public-{bucket}.json"
        configs.append(spec.ConfigFile(path, public_read_document(bucket)))
        steps.append(f"mc anonymous set-json {path} {q(f'{alias}/{bucket}')}")
    keys = []
    for consumer in users:
        key = spec.SecretFile(consumer.key_file, secrets[consumer.secret])
        keys.append(key)
        configs.append(spec.ConfigFile(consumer.policy_file, consumer.document()))
        steps += [
            f'mc admin user add {q(alias)} {q(consumer.user)} "$(cat {key.path})"',
            f"mc admin policy create {q(alias)} {q(consumer.policy)} {consumer.policy_file}",
            f"mc admin policy attach {q(alias)} {q(consumer.policy)} --user {q(consumer.user)}",
        ]
    return Provisioning(script="; ".join(steps), config_files=tuple(configs), secret_files=tuple(keys))
