"""The Big Pods on the dev stack (Docker): the seed's port map, hot reload, debuggers, start order."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from components.config import load
from components.pods.catalog import CATALOG
from components.pods.model import all_services
from components.pods.source import contract_problems
from tests.harness import ROOT, TEST_WORKSPACE, Evaluation, config_bag, evaluate, refuse

CONTAINER = "docker:index/container:Container"
IMAGE = "docker-build:index:Image"
SEED_PORTS = {
    "core-pod": {80: 8080, 3001: 3001, 3002: 3002, 9229: 9229, 9230: 9230},
    "business-pod": {3003: 3003, 3004: 3004, 3005: 3005, 9231: 9231, 9232: 9232, 9233: 9233},
    "experience-pod": {3000: 3000, 3006: 3006, 4000: 4000, 5173: 5173, 9234: 9234, 9235: 9235},
}


def _pod(dev: Evaluation, name: str) -> dict[str, Any]:
    return dev.named(CONTAINER, name).inputs


def test_each_pod_publishes_the_seeds_port_map_on_localhost(dev: Evaluation) -> None:
    for name, expected in SEED_PORTS.items():
        ports = _pod(dev, name)["ports"]
        published = {int(p["external"]): int(p["internal"]) for p in ports}
        assert published == expected, f"{name} publishes host->container {expected}, got {published}"
        assert {p["ip"] for p in ports} == {"127.0.0.1"}, f"{name} publishes on localhost only"


def test_node_debug_ports_9229_to_9235_are_all_published(dev: Evaluation) -> None:
    published = {int(p["external"]) for name in SEED_PORTS for p in _pod(dev, name)["ports"]}
    assert set(range(9229, 9236)) <= published, "every Node inspector port is reachable from the IDE"


def test_every_service_source_is_mounted_over_its_app_dir_for_hot_reload(dev: Evaluation) -> None:
    for pod in CATALOG:
        volumes = {v["containerPath"]: v["hostPath"] for v in _pod(dev, pod.hostname)["volumes"]}
        for service in pod.services:
            expected = str(TEST_WORKSPACE / str(service.source))
            assert volumes.get(str(service.app_dir)) == expected, f"{service.name} mounts {expected}"


def test_node_modules_of_the_image_stay_visible_under_the_source_mount(dev: Evaluation) -> None:
    for pod in CATALOG:
        anonymous = {m["target"] for m in _pod(dev, pod.hostname)["mounts"] if m["type"] == "volume"}
        for service in pod.services:
            assert f"{service.app_dir}/node_modules" in anonymous, f"{service.name} keeps its node_modules"


def test_pod_images_are_built_locally_from_the_dev_stage_of_the_rendered_dockerfile(dev: Evaluation) -> None:
    for pod in CATALOG:
        build = dev.named(IMAGE, f"{pod.hostname}-build").inputs
        assert build["push"] is False and build["load"] is True, f"{pod.name} image is loaded, never pushed"
        assert build["target"] == "dev", f"{pod.name} builds the dev stage"
        assert build["context"]["location"] == str(TEST_WORKSPACE), f"{pod.name} builds from the workspace root"
        named = build["context"]["named"]
        assert named == {"infra": {"location": str(ROOT / "images" / pod.name)}}, (
            f"{pod.name} gets its rendered configs from the `infra` named context, got {named}"
        )
        assert build["dockerfile"]["location"].endswith(f"images/{pod.name}/Dockerfile"), "rendered Dockerfile"
        assert "buildArgs" not in build, f"{pod.name} needs no build argument pointing into the workspace"
        (tag,) = build["tags"]
        assert not tag.endswith(":latest"), f"{pod.name} image is tagged, never latest"
        assert _pod(dev, pod.hostname)["image"] == tag, f"{pod.name} runs the image it built"


def test_a_workspace_outside_this_repository_builds_without_paths_into_it(tmp_path: Path) -> None:
    workspace = tmp_path / "elsewhere"
    shutil.copytree(TEST_WORKSPACE, workspace)
    dev = evaluate("dev", {"workspaceRoot": str(workspace)})
    for pod in CATALOG:
        build = dev.named(IMAGE, f"{pod.hostname}-build").inputs
        assert build["context"]["location"] == str(workspace), f"{pod.name} builds from the outside workspace"
        locations = [build["context"]["location"], *(c["location"] for c in build["context"]["named"].values())]
        assert all(Path(location).is_absolute() and ".." not in location for location in locations), (
            f"{pod.name}: every context is an absolute directory, none relative to another: {locations}"
        )


def test_pods_start_after_the_infrastructure_they_need_is_healthy(dev: Evaluation) -> None:
    needs = {"core-pod": {"postgres-0", "redis-0"}, "business-pod": {"postgres-0", "kafka-0"},
             "experience-pod": {"minio-0", "kafka-0", "redis-0"}}
    for pod, infra in needs.items():
        waits = {urn.rsplit("::", 1)[1] for urn in dev.named(CONTAINER, pod).options["dependencies"]}
        containers = {r.name for r in dev.of_type(CONTAINER)}
        assert infra & containers <= waits, f"{pod} waits for {infra & containers}, waits for {waits}"
        assert _pod(dev, pod)["wait"] is True, f"{pod} itself is awaited until healthy"


def test_a_pods_healthcheck_probes_every_process(dev: Evaluation) -> None:
    for pod in CATALOG:
        test = " ".join(_pod(dev, pod.hostname)["healthcheck"]["tests"])
        for check in pod.health_checks:
            assert check.url in test, f"{pod.name} healthcheck covers {check.url}"


def test_dev_urls_are_localhost_addresses(dev: Evaluation) -> None:
    urls = dev.outputs["urls"].value
    assert urls["web"] == "http://localhost:3000", "the web app is on localhost:3000"
    assert urls["api"] == "http://localhost", "the API gateway is on localhost:80"
    assert urls["realtime"] == "ws://localhost:4000", "the WebSocket gateway is on localhost:4000"
    assert all(url.startswith(("http://localhost", "ws://localhost")) for url in urls.values()), (
        f"dev urls are local: {urls}")


def _service(root: Path, source: str, package: object | None) -> None:
    directory = root / source
    directory.mkdir(parents=True)
    if package is not None:
        (directory / "package.json").write_text(json.dumps(package))


def test_a_missing_source_directory_is_named_before_anything_is_registered(tmp_path: Path) -> None:
    _service(tmp_path, "dreamscape-services/auth", {"scripts": {"dev": "node --watch server.js"}})
    refusal = refuse("dev", {"workspaceRoot": str(tmp_path)})
    message = refusal.message
    assert refusal.registered == [], "the source is checked before any registration"
    assert "dreamscape-services/user is missing" in message, "the missing directory is named"
    assert "dreamscape-services/auth " not in message, "a directory that meets the contract is not reported"
    assert "workspaceRoot" in message, "the message says how to point the stack at the sources"
    assert "application reference" in message, "the message says how to build the reference application"


def test_empty_directories_and_manifests_without_a_dev_script_are_caught_before_the_build(tmp_path: Path) -> None:
    _service(tmp_path, "dreamscape-services/auth", None)
    _service(tmp_path, "dreamscape-services/user", {"scripts": {"start": "node server.js"}})
    (tmp_path / "dreamscape-services" / "voyage").mkdir()
    (tmp_path / "dreamscape-services" / "voyage" / "package.json").write_text("{not json")
    refusal = refuse("dev", {"workspaceRoot": str(tmp_path)})
    assert "auth: " in refusal.message and "has no package.json" in refusal.message, refusal.message
    assert "user/package.json has no `dev` script" in refusal.message, refusal.message
    assert "voyage/package.json is not valid JSON" in refusal.message, refusal.message
    assert refusal.registered == [], "the contract check runs before any registration"


def test_explicit_checkouts_without_any_checkout_stop_the_run_with_no_resource_registered(
    tmp_path: Path,
) -> None:
    refusal = refuse("dev", {"workspaceRoot": str(tmp_path), "application": "checkouts"})
    assert "do not meet the application contract" in refusal.message, refusal.message
    assert refusal.registered == [], "the check runs before any registration"


def test_without_checkouts_auto_builds_the_reference_application_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        dev = evaluate("dev", {"workspaceRoot": str(tmp_path)})
    reference = ROOT / "reference-app"
    for pod in CATALOG:
        build = dev.named(IMAGE, f"{pod.hostname}-build").inputs
        assert build["context"]["location"] == str(reference), f"{pod.name} builds the reference application"
        volumes = {v["containerPath"]: v["hostPath"] for v in _pod(dev, pod.hostname)["volumes"]}
        for service in pod.services:
            assert volumes[str(service.app_dir)] == str(reference / str(service.source)), (
                f"{service.name} mounts the reference service for hot reload"
            )
    notices = [r.getMessage() for r in caplog.records if "reference application" in r.getMessage()]
    assert len(notices) == 1, f"exactly one notice says the reference application is used: {notices}"
    assert "pulumi config set application checkouts" in notices[0], "the notice says how to switch"


def test_the_reference_application_meets_the_contract_the_build_checks() -> None:
    assert contract_problems(ROOT / "reference-app") == [], "reference-app/ has every service with a dev script"


def test_explicit_reference_builds_it_even_when_checkouts_exist(dev: Evaluation) -> None:
    chosen = evaluate("dev", {"application": "reference"})
    build = chosen.named(IMAGE, "core-pod-build").inputs
    assert build["context"]["location"] == str(ROOT / "reference-app"), "`reference` wins over checkouts"
    assert dev.named(IMAGE, "core-pod-build").inputs["context"]["location"] == str(TEST_WORKSPACE), (
        "`auto` builds the checkouts when they are present"
    )


def test_clusters_do_not_need_the_sources(tmp_path: Path) -> None:
    config = load("prod", config_bag("prod", {"workspaceRoot": str(tmp_path)}))
    assert config.workspace_root == str(tmp_path), "prod loads without any source directory"


def test_big_pod_host_ports_may_not_clash_with_infrastructure_ports() -> None:
    refusal = refuse("dev", {"docker": {"hostPorts": {"web": 5432}}})
    assert "host port 5432 is claimed by postgres/postgres and experience-pod/web" in refusal.message, (
        refusal.message)
    assert refusal.registered == [], "a port clash is found before anything is registered"


def test_a_service_with_a_database_must_declare_its_migrate_script(tmp_path: Path) -> None:
    for _, service in all_services(CATALOG):
        scripts = {"dev": "node --watch server.js"}
        if service.name != "payment":
            scripts["migrate"] = "node migrate.js"
        _service(tmp_path, str(service.source), {"scripts": scripts})
    problems = contract_problems(tmp_path)
    assert len(problems) == 1 and "payment/package.json has no `migrate` script" in problems[0], problems
