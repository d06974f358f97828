"""MinIO access per consumer: no Big Pod holds root credentials, each user's policy allows exactly its job.

MinIO cannot run here, so the policy documents are proven in two steps instead:
- their shape, against the AWS IAM policy grammar
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html) plus the rules
  MinIO's parser adds (minio/pkg policy/statement.go `isValid`: object actions need object ARNs
  `bucket/key`, bucket actions bucket ARNs; policy/action.go: `s3:prefix` is a condition key of
  `s3:ListBucket`);
- their meaning, by evaluating every request in a matrix of actions x resources x list prefixes with the
  grammar's rules (an `Allow` statement matches when an action and a resource match, `*`/`?` wildcards, and
  every `StringLike` condition holds), and comparing the allowed set with the one each consumer needs.
The documents are read from what the targets receive (prod's ConfigMaps, dev's container uploads).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema

from components.backup import POLICY as BACKUP_POLICY
from components.infra.minio import APP_USER, ROOT_USER
from tests import kube
from tests.harness import Evaluation, evaluate

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
CONTAINER = "docker:index/container:Container"
ASSETS, BACKUPS, OTHER = "dreamscape-vr-assets", "dreamscape-backups", "someone-elses-bucket"
APP_POLICY = f"{APP_USER}-buckets"

BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:DeleteBucket",
                  "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy", "s3:CreateBucket",
                  "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:ListAllMyBuckets")
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                  "s3:ListMultipartUploadParts", "s3:PutObjectRetention", "s3:BypassGovernanceRetention",
                  "s3:PutObjectLegalHold", "s3:GetObjectVersion", "s3:DeleteObjectVersion")
"""The request universe (minio/pkg policy/action.go names): every action a consumer might need, and the
dangerous ones it must not have (deleting a bucket, replacing its policy, bypassing retention)."""
LIST_PREFIXES = ("", "postgres", "postgres/", "postgres/2026", "other/")

ARN = r"arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?"
STATEMENT: dict[str, Any] = {
    "type": "object",
    "required": ["Effect", "Action", "Resource"],
    "additionalProperties": False,
    "properties": {
        "Sid": {"type": "string"},
        "Effect": {"enum": ["Allow", "Deny"]},
        "Principal": {"type": "object", "additionalProperties": False,
                      "properties": {"AWS": {"type": "array", "minItems": 1, "items": {"type": "string"}}}},
        "Action": {"type": "array", "minItems": 1, "uniqueItems": True,
                   "items": {"type": "string", "pattern": r"^s3:[A-Za-z*?]+$"}},
        "Resource": {"type": "array", "minItems": 1, "uniqueItems": True,
                     "items": {"type": "string", "pattern": f"^{ARN}$"}},
        "Condition": {"type": "object", "minProperties": 1,
                      "propertyNames": {"enum": ["StringEquals", "StringNotEquals", "StringLike", "StringNotLike"]},
                      "additionalProperties": {"type": "object", "minProperties": 1, "additionalProperties": {
                          "type": "array", "minItems": 1, "items": {"type": "string"}}}},
    },
}
POLICY: dict[str, Any] = {
    "type": "object",
    "required": ["Version", "Statement"],
    "additionalProperties": False,
    "properties": {"Version": {"const": "2012-10-17"}, "Id": {"type": "string"},
                   "Statement": {"type": "array", "minItems": 1, "items": STATEMENT}},
}
CONDITION_KEYS = {"s3:ListBucket": {"s3:prefix", "s3:delimiter", "s3:max-keys"}}
"""Condition keys MinIO accepts per action, for the actions that take any beyond the common ones."""

Request = tuple[str, str, str | None]
"""(action, resource ARN, the `s3:prefix` of a list request or None)."""


def _wildcard(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def allowed(document: Mapping[str, Any], request: Request) -> bool:
    """The IAM decision for a policy with only `Allow` statements: some statement matches the request."""
    action, resource, prefix = request
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow", "the evaluator covers Allow statements only"
        if not any(_wildcard(a, action) for a in statement["Action"]):
            continue
        if not any(_wildcard(r, resource) for r in statement["Resource"]):
            continue
        likes = statement.get("Condition", {}).get("StringLike", {})
        if any(key != "s3:prefix" for key in likes):
            continue
        if "s3:prefix" in likes and (prefix is None or not any(_wildcard(p, prefix) for p in likes["s3:prefix"])):
            continue
        return True
    return False


def requests() -> Iterator[Request]:
    for bucket in (ASSETS, BACKUPS, OTHER):
        for action in BUCKET_ACTIONS:
            for prefix in (LIST_PREFIXES if action == "s3:ListBucket" else (None,)):
                yield action, f"arn:aws:s3:::{bucket}", prefix
        for key in ("x.jpg", "postgres/app-20260101T020000Z.dump", "other/x"):
            for action in OBJECT_ACTIONS:
                yield action, f"arn:aws:s3:::{bucket}/{key}", None


def granted(document: Mapping[str, Any]) -> set[Request]:
    return {request for request in requests() if allowed(document, request)}


def check_grammar(document: Mapping[str, Any], *, bucket_policy: bool) -> None:
    jsonschema.validate(document, POLICY)
    for statement in document["Statement"]:
        assert ("Principal" in statement) == bucket_policy, (
            "a bucket policy names its principal; a user's policy must not (MinIO rejects it)")
        for action in statement["Action"]:
            object_action = action in OBJECT_ACTIONS
            for resource in statement["Resource"]:
                assert ("/" in resource) == object_action, (
                    f"MinIO refuses {action} on {resource}: object actions need bucket/key ARNs")
            for keys in statement.get("Condition", {}).values():
                assert set(keys) <= CONDITION_KEYS.get(action, set()), f"{action} takes no condition {set(keys)}"


def config_documents(prod: Evaluation, task: str) -> dict[str, dict[str, Any]]:
    data = prod.named(CONFIG_MAP, f"{task}-config").inputs["data"]
    return {key: json.loads(text) for key, text in data.items() if key.endswith(".json")}


def prod_policy(prod: Evaluation, task: str, name: str) -> dict[str, Any]:
    return config_documents(prod, task)[f"etc-dreamscape-minio-policies-{name}.json"]


def test_big_pods_get_the_app_user_never_root(dev: Evaluation, prod: Evaluation) -> None:
    """On both targets the pods that need MinIO receive the app user and its generated key, never root's."""
    root_key = prod.outputs["minioRootPassword"].value
    delivered = [secret.inputs["stringData"] for secret in prod.of_type(SECRET)
                 if "minio-access-key" in secret.inputs.get("stringData", {})]
    assert delivered, "some Big Pod needs MinIO"
    for data in delivered:
        assert data["minio-access-key"] == APP_USER, data["minio-access-key"]
        assert data["minio-secret-key"] in prod.generated_secrets and data["minio-secret-key"] != root_key
    dev_root = dev.outputs["minioRootPassword"].value
    for container in dev.of_type(CONTAINER):
        files = {u["file"].rsplit("/", 1)[-1]: u["content"] for u in container.inputs.get("uploads", [])}
        if "minio-access-key" in files:
            assert files["minio-access-key"] == APP_USER, container.name
            assert files["minio-secret-key"] != dev_root, f"{container.name} holds MinIO's root key"
        assert not container.name.endswith("pod") or all(dev_root not in str(c) for c in files.values()), (
            f"{container.name} holds MinIO's root key")


def test_the_app_policy_allows_exactly_its_buckets(prod: Evaluation) -> None:
    document = prod_policy(prod, "minio-buckets", APP_POLICY)
    check_grammar(document, bucket_policy=False)
    assets = f"arn:aws:s3:::{ASSETS}"
    expected = {("s3:GetBucketLocation", assets, None)} | {("s3:ListBucket", assets, p) for p in LIST_PREFIXES} | {
        (action, f"{assets}/{key}", None)
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
        for key in ("x.jpg", "postgres/app-20260101T020000Z.dump", "other/x")}
    assert granted(document) == expected, (
        f"extra: {granted(document) - expected}, missing: {expected - granted(document)}")


def test_the_backup_policy_allows_only_its_prefix(prod: Evaluation) -> None:
    """Lists, uploads, reads back and prunes dumps below postgres/; sees nothing else, deletes no bucket."""
    document = prod_policy(prod, "backup-setup", BACKUP_POLICY)
    check_grammar(document, bucket_policy=False)
    backups = f"arn:aws:s3:::{BACKUPS}"
    expected = {("s3:GetBucketLocation", backups, None)} | {
        ("s3:ListBucket", backups, p) for p in ("postgres", "postgres/", "postgres/2026")} | {
        (action, f"{backups}/postgres/app-20260101T020000Z.dump", None)
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")}
    assert granted(document) == expected, (
        f"extra: {granted(document) - expected}, missing: {expected - granted(document)}")


def test_the_asset_bucket_is_anonymously_readable_by_key_only(prod: Evaluation) -> None:
    """Seed 000 loads VR assets at http://<minio>/dreamscape-vr-assets/<key>: download, never list or write."""
    document = config_documents(prod, "minio-buckets")[f"etc-dreamscape-minio-policies-public-{ASSETS}.json"]
    check_grammar(document, bucket_policy=True)
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"AWS": ["*"]}
    assert granted(document) == {("s3:GetObject", f"arn:aws:s3:::{ASSETS}/{key}", None)
                                 for key in ("x.jpg", "postgres/app-20260101T020000Z.dump", "other/x")}


def test_provisioning_creates_users_and_policies_idempotently(prod: Evaluation) -> None:
    """The pinned mc (RELEASE.2025-08-13) syntax; every step may run again after a rotation."""
    script = kube.pod_spec(prod.named("kubernetes:batch/v1:Job", "minio-buckets"))["containers"][0]["command"][-1]
    policy_file = f"/etc/dreamscape/minio-policies/{APP_POLICY}.json"
    for step in (f"mc mb --ignore-existing dreamscape/{ASSETS}",
                 f"mc anonymous set-json /etc/dreamscape/minio-policies/public-{ASSETS}.json dreamscape/{ASSETS}",
                 f'mc admin user add dreamscape {APP_USER} "$(cat /run/secrets/dreamscape/minio-key-{APP_USER})"',
                 f"mc admin policy create dreamscape {APP_POLICY} {policy_file}",
                 f"mc admin policy attach dreamscape {APP_POLICY} --user {APP_USER}"):
        assert step in script, f"missing: {step}\n{script}"
    assert script.index("mc mb") < script.index("anonymous") < script.index("user add") < script.index("attach")
    secret = prod.named(SECRET, "minio-buckets-secrets").inputs["stringData"]
    assert secret[f"minio-key-{APP_USER}"] in prod.generated_secrets, "the key is a generated secret"
    mc_config = json.loads(secret["mc-config"])
    assert mc_config["aliases"]["dreamscape"]["accessKey"] == ROOT_USER, "only the provisioning runs as root"


def test_rotating_the_app_key_reruns_the_provisioning_and_rolls_its_pods() -> None:
    before, after = evaluate("prod"), evaluate("prod", {"secretRotation": {"minioApp": 1}})

    def run_id(stack: Evaluation) -> str:
        job = stack.named("kubernetes:batch/v1:Job", "minio-buckets")
        return str(job.inputs["spec"]["template"]["metadata"]["annotations"]["dreamscape.io/run-id"])

    assert run_id(before) != run_id(after), "a new app key is applied to the server by the provisioning job"


def test_docker_receives_the_same_documents(dev: Evaluation, prod: Evaluation) -> None:
    """One definition for both targets: dev's provisioning container uploads the documents prod mounts."""
    container = dev.named(CONTAINER, "minio-buckets")
    uploads = {u["file"]: json.loads(u["content"]) for u in container.inputs["uploads"]
               if u["file"].startswith("/etc/dreamscape/minio-policies/")}
    app_policy = uploads[f"/etc/dreamscape/minio-policies/{APP_POLICY}.json"]
    assert app_policy == prod_policy(prod, "minio-buckets", APP_POLICY)
    assert f"/etc/dreamscape/minio-policies/public-{ASSETS}.json" in uploads


def test_a_public_bucket_outside_buckets_is_created() -> None:
    """A public bucket is never a policy on nothing: it is created too."""
    stack = evaluate("prod", {"minio": {"buckets": ["dreamscape-panoramas"]}})
    script = kube.pod_spec(stack.named("kubernetes:batch/v1:Job", "minio-buckets"))["containers"][0]["command"][-1]
    assert f"mc mb --ignore-existing dreamscape/dreamscape-panoramas dreamscape/{ASSETS}" in script, script
