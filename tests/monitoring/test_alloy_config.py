"""Alloy syntax renderer (escaping, identifiers) and the Docker / Kubernetes log pipelines."""

from __future__ import annotations

import json
import re

import pytest

from components.monitoring.alloy.config import (
    AlloyConfigArgs,
    DockerLogSource,
    KubernetesLogSource,
    alloy_rbac_rules,
    render_alloy_config,
)
from components.monitoring.alloy.syntax import (
    Attribute,
    Block,
    call,
    concat,
    quote,
    ref,
    render_alloy,
    render_value,
)
from components.monitoring.common import LOKI, LOKI_PORT

TRICKY = [
    "plain",
    'say "hi"',
    "back\\slash",
    "new\nline",
    "tab\tcr\r",
    "bell\a vt\v nul\x00 del\x7f",
    "ünï ✓",
    "$1 ${x} {{ y }}",
    "/* not a comment */ // nor this",
]


@pytest.mark.parametrize("text", TRICKY)
def test_quoted_strings_round_trip_exactly(text: str) -> None:
    literal = quote(text)
    assert literal.startswith('"') and literal.endswith('"'), "strings are double-quoted"
    assert json.loads(literal) == text, f"the escapes (a subset of JSON's) must decode back to {text!r}"
    assert "\n" not in literal and "\x00" not in literal, "control characters are escaped, never raw"


def test_values_render_as_alloy_literals() -> None:
    assert render_value(True) == "true" and render_value(None) == "null", "bool and null keywords"
    assert render_value(3) == "3" and render_value(1.5) == "1.5", "numbers are bare"
    assert render_value(["a", 1]) == '["a", 1]', "arrays"
    assert render_value({"env": "dev", "a.b": "x"}) == '{env = "dev", "a.b" = "x"}', (
        "object keys are bare identifiers or quoted strings"
    )
    with pytest.raises(ValueError):
        render_value(float("nan"))


def test_expressions_are_validated_and_only_built_by_helpers() -> None:
    assert ref("loki.write.default.receiver").text == "loki.write.default.receiver", "references are bare"
    expr = concat("spec.nodeName=", call("sys.env", "NODE_NAME"))
    assert expr.text == '"spec.nodeName=" + sys.env("NODE_NAME")', (
        "calls and concatenations quote their strings"
    )
    for bad in ("loki.write.default receiver", 'x"; evil', "1abc"):
        with pytest.raises(ValueError):
            ref(bad)


@pytest.mark.parametrize("name", ["bad-name", "1x", "a b", ""])
def test_invalid_identifiers_are_rejected(name: str) -> None:
    with pytest.raises(ValueError):
        Attribute(name, "x")
    with pytest.raises(ValueError):
        Block("loki.write", name)


def test_blocks_nest_with_balanced_braces_and_tab_indentation() -> None:
    text = render_alloy(
        [Block("a.b", "lbl", (Attribute("x", "}{"), Block("inner", None, (Attribute("y", 1),))))]
    )
    assert text == 'a.b "lbl" {\n\tx = "}{"\n\n\tinner {\n\t\ty = 1\n\t}\n}\n', f"unexpected layout:\n{text}"


def _structure(text: str) -> list[str]:
    """Block headers in order, ignoring string contents."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert stripped.count("{") == stripped.count("}"), "braces must balance outside strings"
    return re.findall(r"^\s*([a-z_.]+)(?: \"\")? \{", stripped, flags=re.MULTILINE)


def test_docker_mode_reads_the_socket_and_labels_pod_service_environment() -> None:
    text = render_alloy_config(AlloyConfigArgs("dev", DockerLogSource()))
    headers = _structure(text)
    for component in ("discovery.docker", "discovery.relabel", "loki.source.docker", "loki.write"):
        assert component in headers, f"docker mode needs {component}"
    assert 'host = "unix:///var/run/docker.sock"' in text, "logs are read through the Docker socket"
    for label in ('target_label = "pod"', 'target_label = "service"'):
        assert label in text, f"streams need {label}"
    assert 'external_labels = {environment = "dev"}' in text, "every stream gets the environment label"
    assert f'url = "http://{LOKI}:{LOKI_PORT}/loki/api/v1/push"' in text, "logs go to Loki's push API"


def test_kubernetes_mode_tails_this_nodes_pod_logs_in_one_namespace() -> None:
    text = render_alloy_config(AlloyConfigArgs("prod", KubernetesLogSource("dreamscape")))
    headers = _structure(text)
    for component in (
        "discovery.kubernetes",
        "discovery.relabel",
        "local.file_match",
        "loki.source.file",
        "loki.process",
        "stage.cri",
        "loki.write",
    ):
        assert component in headers, f"kubernetes mode needs {component}"
    assert 'names = ["dreamscape"]' in text, "discovery is limited to the namespace"
    assert 'field = "spec.nodeName=" + sys.env("NODE_NAME")' in text, "a DaemonSet pod tails only its node"
    assert 'replacement = "/var/log/pods/*$1/*.log"' in text, "files come from the kubelet's pod log dir"
    assert "__meta_kubernetes_pod_label_dreamscape_io_pod" in text, "pod comes from the Big Pod label"
    assert "__meta_kubernetes_pod_label_app_kubernetes_io_name" in text, (
        "service (and pod, outside Big Pods) comes from app.kubernetes.io/name"
    )
    assert "component" not in text, "never the component label: every Big Pod line would say service=bigpods"
    assert 'external_labels = {environment = "prod"}' in text, "environment label from typed input"
    assert alloy_rbac_rules() == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    ], "Alloy only needs to read pods"


# -- per-line labels: the process and the level of each Big Pod log line ------------------------------------
LINES = [
    ("auth: listening on 0.0.0.0:3001 (pid 7), dependencies: postgres, redis", {"service": "auth"}),
    ("Error: connect ECONNREFUSED 10.43.0.5:5432", {}),
    ('{"level":"error","service":"payment","msg":"card declined"}', {"service": "payment", "level": "error"}),
    ('10.42.0.7 - - [29/Nov/2026:06:00:00 +0000] "GET /api/v1/voyages HTTP/1.1" 200 512 "-" "curl/8"',
     {"nginx": "access"}),
    ("2026/11/29 06:00:00 [error] 12#12: *3 connect() failed", {"nginx": "error", "level": "error"}),
    ("time=2026-11-29T06:00:00Z level=warn msg=slow", {"level": "warn"}),
]


@pytest.mark.parametrize(("line", "expected"), LINES)
def test_the_line_parsers_find_the_process_and_level(line: str, expected: dict[str, str]) -> None:
    # The expressions use only RE2 syntax (named groups, classes), which Python's re reads the same way.
    from components.monitoring.alloy.config import LEVEL_PAIR, NGINX_ACCESS, NGINX_ERROR, PROCESS_PREFIX

    prefix = re.match(PROCESS_PREFIX, line)
    if "service" in expected and not line.startswith("{"):
        assert prefix and prefix.group("service") == expected["service"], f"prefix gives the process: {line}"
    elif not line.startswith("{"):
        assert prefix is None, f"no made-up process from {line}"
    if line.startswith("{"):
        assert json.loads(line)["service"] == expected["service"], "stage.json reads `service`"
    assert bool(re.search(NGINX_ACCESS, line)) == (expected.get("nginx") == "access"), f"access log shape: {line}"
    error = re.search(NGINX_ERROR, line)
    assert bool(error) == (expected.get("nginx") == "error"), f"error log shape: {line}"
    if "level" in expected and not line.startswith("{"):
        found = (error.group("level") if error else None) or (m.group("level") if (m := re.search(LEVEL_PAIR, line))
                                                                   else None)
        assert found == expected["level"], f"level of {line}"


def test_every_line_is_labelled_through_one_pipeline_in_both_modes() -> None:
    for source in (DockerLogSource(), KubernetesLogSource("dreamscape")):
        text = render_alloy_config(AlloyConfigArgs("dev", source))
        assert text.count('loki.process "lines"') == 1, "one pipeline"
        assert "forward_to = [loki.process.lines.receiver]" in text, "the source feeds the pipeline"
        for stage in ("stage.regex", "stage.json", "stage.match", "stage.static_labels", "stage.labels"):
            assert stage in text, f"{stage} labels the process and level"
        assert 'values = {service = "", level = ""}' in text, "service and level become labels"
