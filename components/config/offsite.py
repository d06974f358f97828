"""The off-site S3 target that backups are shipped to (database dumps, etcd snapshots).

One shape for every consumer, so an operator configures a bucket once per stack and each backup names
the same keys: `endpoint`, `bucket`, `region`, `accessKeyId`, `secretAccessKey` (the last two as secret
config).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, SecretStr

from components.config import rules
from components.config.section import Section


def s3_endpoint(value: str) -> str:
    """An S3 endpoint as k3s' `--etcd-s3-endpoint` and the MinIO client take it: a host (optionally with a
    port), without a scheme or path; k3s adds https:// itself unless `--etcd-s3-insecure` is set."""
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?", value):
        raise ValueError(f"expected an S3 endpoint host such as 's3.eu-west-3.amazonaws.com' (no scheme, no "
                         f"path), got {value!r}")
    return value


def s3_region(value: str) -> str:
    """An S3 region name (`eu-west-3`, MinIO's default `us-east-1`): lowercase letters, digits and '-'."""
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?", value):
        raise ValueError(f"expected an S3 region such as 'eu-west-3', got {value!r}")
    return value


class OffsiteConfig(Section):
    """An S3-compatible bucket outside the cluster; credentials are secret config."""

    endpoint: Annotated[str, AfterValidator(s3_endpoint)]
    """The S3 endpoint host (`s3.eu-west-3.amazonaws.com`), no scheme."""
    bucket: Annotated[str, AfterValidator(rules.s3_bucket)]
    """The bucket (S3 naming rules)."""
    region: Annotated[str, AfterValidator(s3_region)]
    """The bucket's region."""
    access_key_id: SecretStr
    """Access key id (secret config)."""
    secret_access_key: SecretStr
    """Secret access key (secret config)."""
    insecure: bool = False
    """Plain http to the endpoint (a lab store): every WAL segment, snapshot and S3 signature would cross the
    network unencrypted. Off by default: every consumer speaks https to the endpoint (k3s adds https:// unless
    `--etcd-s3-insecure`; CloudNativePG's `endpointURL` is `https://<endpoint>`)."""
