"""Host ports live with the ports they publish; config overrides them by port name."""

from __future__ import annotations

from tests.harness import evaluate, refuse

CONTAINER = "docker:index/container:Container"


def test_a_port_is_overridden_by_its_name() -> None:
    dev = evaluate("dev", {"docker": {"hostPorts": {"postgres": 15432, "auth-debug": 19229}}})
    published = {int(p["external"]): int(p["internal"])
                 for c in dev.of_type(CONTAINER) for p in c.inputs.get("ports", [])}
    assert published[15432] == 5432 and published[19229] == 9229, "overrides move exactly the named ports"
    assert 5432 not in published and 9229 not in published, "the defaults are replaced, not kept"
    assert dev.outputs["endpoints"].value["postgres"] == "127.0.0.1:15432", "outputs follow the override"


def test_an_unknown_port_name_is_refused_with_the_valid_names() -> None:
    refusal = refuse("dev", {"docker": {"hostPorts": {"authDebug": 9300}}})
    assert "dreamscape:docker.hostPorts.authDebug: no port is named 'authDebug'" in refusal.message, (
        refusal.message)
    assert "auth-debug" in refusal.message and "postgres" in refusal.message, "the valid names are listed"
    assert refusal.registered == [], "refused before anything is registered"


def test_two_ports_on_one_host_port_are_refused() -> None:
    refusal = refuse("dev", {"docker": {"hostPorts": {"grafana": 9090}}})
    assert "host port 9090 is claimed by" in refusal.message, refusal.message
    assert "grafana/grafana" in refusal.message and "prometheus/prometheus" in refusal.message, refusal.message
