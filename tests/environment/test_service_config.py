"""Per-service configuration (`services.<service>.env` / `.secrets`) and the engine's secret flag on every
config key: a value set with `--secret` never reaches a resource input in plain text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import load
from components.config.loader import ConfigError
from components.spec import SECRETS_DIR
from tests.harness import Evaluation, config_bag, evaluate, refuse, walk_plain

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters:\n- name: k3s\n  cluster: {server: https://10.0.0.5:6443}\n" \
             "users:\n- name: admin\n  user: {token: KUBETOKEN-s3cr3t-9f8e7d}\n"
STRIPE = "sk_live_STRIPEKEY-0123456789abcdef"
AMADEUS = "AMADEUS-KEY-fedcba9876543210"
SERVICES = {
    "payment": {"env": {"PAYMENT_CURRENCY": "EUR"}, "secrets": {"STRIPE_API_KEY": STRIPE}},
    "voyage": {"secrets": {"AMADEUS_API_KEY": AMADEUS}},
}


def _plain_leaks(evaluation: Evaluation, secrets: tuple[str, ...]) -> list[str]:
    return [
        f"{resource.type} {resource.name}{path}"
        for resource in evaluation.resources
        for path, leaf in walk_plain(resource.wire)
        if isinstance(leaf, str) and any(secret in leaf for secret in secrets)
    ]


def _pod(evaluation: Evaluation, name: str) -> Any:
    return next(s for s in evaluation.services if s.name == f"{name}-pod")


@pytest.fixture(scope="module")
def configured() -> Evaluation:
    return evaluate("prod", {"services": SERVICES, "kubernetes": {"kubeconfig": KUBECONFIG}},
                    secret_keys=["services", "kubernetes"])


def test_a_secret_kubeconfig_and_api_keys_never_reach_any_input_in_plain_text(configured: Evaluation) -> None:
    leaks = _plain_leaks(configured, (KUBECONFIG, "KUBETOKEN-s3cr3t-9f8e7d", STRIPE, AMADEUS))
    assert not leaks, f"secret config values outside secret markers: {leaks}"


def test_the_secret_values_do_reach_their_resources(configured: Evaluation) -> None:
    # Guards the test above: a value that reached nothing would trivially never leak.
    provider = next(r for r in configured.resources if r.type == "pulumi:providers:kubernetes")
    assert "KUBETOKEN-s3cr3t-9f8e7d" in json.dumps(provider.inputs), "the provider gets the kubeconfig"
    everything = json.dumps([r.inputs for r in configured.resources])
    assert STRIPE in everything and AMADEUS in everything, "the API keys reach their pods' Secrets"


def test_without_the_secret_flag_the_kubeconfig_would_travel_in_plain_text() -> None:
    # The guard is what keeps it secret: the same config without the engine's flag is sent as is.
    plain = evaluate("prod", {"kubernetes": {"kubeconfig": KUBECONFIG}})
    assert _plain_leaks(plain, ("KUBETOKEN-s3cr3t-9f8e7d",)), "the flag, not the value, decides"


def test_each_service_config_reaches_exactly_the_pod_that_runs_the_service(configured: Evaluation) -> None:
    business = _pod(configured, "business")
    env = dict(business.container.env)
    assert env["PAYMENT_CURRENCY"] == "EUR", "plain env reaches the payment service's pod"
    assert env["STRIPE_API_KEY_FILE"] == f"{SECRETS_DIR}/payment-stripe-api-key", "secrets arrive as files"
    assert env["AMADEUS_API_KEY_FILE"] == f"{SECRETS_DIR}/voyage-amadeus-api-key", "voyage's key as a file"
    assert "STRIPE_API_KEY" not in env and "AMADEUS_API_KEY" not in env, "never a secret in an env var"
    keys = {file.key for file in business.container.secret_files}
    assert {"payment-stripe-api-key", "voyage-amadeus-api-key"} <= keys, "the files are secret files"
    for other in ("core", "experience"):
        pod = _pod(configured, other)
        assert not {"PAYMENT_CURRENCY", "STRIPE_API_KEY_FILE", "AMADEUS_API_KEY_FILE"} & set(pod.container.env), \
            f"{other} gets no other service's configuration"
        assert not any(f.key.startswith(("payment-", "voyage-")) for f in pod.container.secret_files), \
            f"{other} gets no other service's secrets"


def test_the_engine_secret_flag_is_read_with_is_config_secret() -> None:
    bag = config_bag("dev", {"services": SERVICES})
    config = load("dev", bag, secret_keys=["dreamscape:services"])
    assert config.secret_keys == {"services"}, "the loader keeps the engine's flag"
    assert STRIPE in config.secret_values and "EUR" in config.secret_values, "every value under the key"


@pytest.mark.parametrize(("services", "expected"), [
    ({"nosuch": {"env": {"A": "b"}}}, "unknown services ['nosuch']"),
    ({"payment": {"env": {"lower": "x"}}}, "POSIX environment variable name"),
    ({"payment": {"env": {"1ABC": "x"}}}, "POSIX environment variable name"),
    ({"payment": {"env": {"DATABASE_URL": "x"}}}, "'DATABASE_URL' is reserved"),
    ({"payment": {"env": {"REDIS_HOST": "x"}}}, "'REDIS_HOST' is reserved"),
    ({"payment": {"env": {"PORT": "1"}}}, "'PORT' is reserved"),
    ({"payment": {"env": {"KEY_FILE": "x"}, "secrets": {"KEY": "y"}}}, "both plain env and secrets"),
    ({"payment": {"env": {"MODE": "a"}}, "voyage": {"env": {"MODE": "b"}}}, "both set MODE"),
])
def test_bad_service_config_is_refused_before_anything_is_registered(services: Any, expected: str) -> None:
    refusal = refuse("dev", {"services": services}, secret_keys=["services"])
    assert expected in refusal.message, refusal.message
    assert not refusal.registered, "nothing registered"


def test_service_secrets_set_without_the_secret_flag_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"services.payment.secrets: set with `pulumi config set --secret"):
        load("dev", config_bag("dev", {"services": SERVICES}), secret_keys=[])


def test_every_variable_a_link_or_the_pod_runtime_sets_is_reserved(configured: Evaluation) -> None:
    from components.config.model import env_name
    from components.pods.catalog import CATALOG
    from components.pods.model import all_services
    from components.pods.render.supervisord import Mode, service_environment

    ours = {"PAYMENT_CURRENCY", "STRIPE_API_KEY_FILE", "AMADEUS_API_KEY_FILE"}
    program_set = {name for pod in CATALOG for name in _pod(configured, pod.name).container.env} - ours
    program_set |= {name for _, app in all_services(CATALOG) for mode in Mode
                    for name in service_environment(app, mode)}
    accepted = []
    for name in sorted(program_set):
        try:
            env_name(name)
            accepted.append(name)
        except ValueError:
            pass
    assert not accepted, f"a service could override what the program sets: {accepted}"


def test_any_key_set_with_secret_keeps_its_flag_even_one_no_consumer_treats_as_secret() -> None:
    # `domain` is plain everywhere in the program: the engine's flag alone must keep it out of plain inputs.
    domain = "secret-shop.example.org"
    evaluation = evaluate("prod", {"domain": domain}, secret_keys=["domain"])
    assert any(domain in json.dumps(r.inputs) for r in evaluation.resources), "the domain is used (hosts)"
    leaks = _plain_leaks(evaluation, (domain,))
    assert not leaks, f"a --secret domain travels in plain text: {leaks}"
