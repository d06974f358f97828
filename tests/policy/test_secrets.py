"""Rule 6: secrets never appear as literal env values or ConfigMap keys."""

from __future__ import annotations

from typing import Any

import pytest
from dreamscape_policy.secrets import looks_secret

from tests.policy.fakes import (
    CONFIG_MAP,
    DEPLOYMENT,
    DOCKER_CONTAINER,
    STATEFUL_SET,
    main_container,
    make_args,
    pod_of,
    violations_of,
    workload,
)

NO_PLAINTEXT = "no-plaintext-secrets"


@pytest.mark.parametrize(
    "name",
    [
        "POSTGRES_PASSWORD",
        "JWT_SECRET",
        "GITHUB_TOKEN",
        "MINIO_SECRET_KEY",
        "API_KEY",
        "apiKey",
        "dbPassword",
        "AWS_CREDENTIALS",
        "tls.key",
        "REDIS_PASSWD",
        "DB_PASSWORD2",
        "API_KEY_2",
        "dbPassword2",
        "S3KEY",
        "TOKEN1_VALUE",
    ],
)
def test_secret_looking_names_are_recognised(name: str) -> None:
    assert looks_secret(name), f"{name} names a secret value"


@pytest.mark.parametrize(
    "name",
    [
        "JWT_SECRET_FILE",
        "GF_SECURITY_ADMIN_PASSWORD__FILE",
        "jwtSecretFile",
        "TLS_KEY_PATH",
        "REDIS_KEY_PREFIX",
        "KEYCLOAK_URL",
        "MONKEY_MODE",
        "PUBLIC_KEY",
        "SECRET_NAME",
        "AWS_ACCESS_KEY_ID",
        "OAUTH_TOKEN_URL",
        "LOG_LEVEL",
        "PWD",
        "DB_PASSWORD_FILE2",
        "OAUTH2_CLIENT_ID",
        "SHA256_SUM",
    ],
)
def test_references_and_look_alikes_are_not_secret(name: str) -> None:
    assert not looks_secret(name), f"{name} refers to or merely resembles a secret; it is no false positive"


def test_a_literal_password_env_var_is_rejected() -> None:
    props = workload(DEPLOYMENT)
    main_container(props)["env"].append({"name": "POSTGRES_PASSWORD", "value": "hunter2"})
    messages = violations_of(NO_PLAINTEXT, make_args(DEPLOYMENT, props))
    assert len(messages) == 1, f"the literal password is reported once, got {messages}"
    assert "POSTGRES_PASSWORD" in messages[0], f"the message names the variable: {messages[0]}"
    assert "hunter2" not in messages[0], "the message never echoes the secret value"


def test_a_secret_env_var_in_an_init_container_is_rejected() -> None:
    props = workload(STATEFUL_SET)
    pod_of(props)["initContainers"][0]["env"].append({"name": "API_TOKEN", "value": "abc"})
    messages = violations_of(NO_PLAINTEXT, make_args(STATEFUL_SET, props))
    assert len(messages) == 1, f"init containers are checked too, got {messages}"


def test_a_secret_env_var_read_from_a_config_map_is_rejected() -> None:
    props = workload(DEPLOYMENT)
    main_container(props)["env"].append(
        {"name": "JWT_SECRET", "valueFrom": {"configMapKeyRef": {"name": "api-config", "key": "jwt"}}}
    )
    messages = violations_of(NO_PLAINTEXT, make_args(DEPLOYMENT, props))
    assert len(messages) == 1, f"only secretKeyRef may carry a secret, got {messages}"
    assert "configMapKeyRef" in messages[0], f"the message names the wrong source: {messages[0]}"


def test_secret_key_refs_and_file_paths_are_accepted() -> None:
    props = workload(DEPLOYMENT)
    env = main_container(props)["env"]
    names = {entry["name"] for entry in env}
    assert {"JWT_SECRET_FILE", "MINIO_SECRET_KEY"} <= names, "the fixture exercises both compliant forms"
    assert violations_of(NO_PLAINTEXT, make_args(DEPLOYMENT, props)) == [], "the restricted pod is compliant"


def config_map(data: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": "api-config", "namespace": "dreamscape"}, "data": data}


def test_a_config_map_with_a_secret_looking_key_is_rejected() -> None:
    args = make_args(CONFIG_MAP, config_map({"LOG_LEVEL": "info", "DATABASE_PASSWORD": "hunter2"}))
    messages = violations_of(NO_PLAINTEXT, args)
    assert len(messages) == 1, f"the secret-looking key is reported, got {messages}"
    assert "DATABASE_PASSWORD" in messages[0], f"the message names the key: {messages[0]}"


def test_a_config_map_of_rendered_config_files_is_accepted() -> None:
    data = {
        "nginx.conf": "worker_processes 1;",
        "supervisord.conf": "[supervisord]\nnodaemon=true\n",
        "JWT_SECRET_FILE": "/run/secrets/jwt-secret",
        "LOG_LEVEL": "info",
    }
    assert violations_of(NO_PLAINTEXT, make_args(CONFIG_MAP, config_map(data))) == [], (
        "config files and *_FILE paths are not secrets"
    )


def docker_container(envs: list[str]) -> dict[str, Any]:
    return {"name": "dreamscape-dev-api", "image": "dreamscape/api:dev", "envs": envs}


def test_a_docker_container_with_a_literal_secret_env_is_rejected() -> None:
    args = make_args(DOCKER_CONTAINER, docker_container(["LOG_LEVEL=debug", "JWT_SECRET=changeme"]))
    messages = violations_of(NO_PLAINTEXT, args)
    assert len(messages) == 1, f"the literal JWT_SECRET is reported, got {messages}"
    assert "JWT_SECRET_FILE" in messages[0], f"the message suggests the *_FILE form: {messages[0]}"
    assert "changeme" not in messages[0], "the message never echoes the secret value"


def test_a_docker_container_using_file_secrets_is_accepted() -> None:
    envs = [
        "JWT_SECRET_FILE=/run/secrets/jwt-secret",
        "POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password",
        "SECRET_NAME=jwt-secret",
        "LOG_LEVEL=debug",
        "MINIO_ROOT_USER=dreamscape",
    ]
    args = make_args(DOCKER_CONTAINER, docker_container(envs))
    assert violations_of(NO_PLAINTEXT, args) == [], "*_FILE paths must not be false positives"
