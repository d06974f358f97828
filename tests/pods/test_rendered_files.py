"""The files committed under images/ are exactly what the renderers produce."""

from __future__ import annotations

from pathlib import Path

from components.pods.render.__main__ import main
from components.pods.render.files import REPO_ROOT, rendered_files, stale_files, write_files


def test_committed_image_files_match_the_renderers() -> None:
    stale = stale_files(REPO_ROOT)
    assert not stale, (
        f"committed files differ from the catalog renderers: {[str(p) for p in stale]}; "
        "run `python -m components.pods.render` and commit the result"
    )


def test_every_pod_directory_has_a_dockerfile_and_supervisord_configs() -> None:
    names = {(path.parent.name, path.name) for path in rendered_files()}
    for pod in ("core", "business", "experience"):
        for name in ("Dockerfile", "supervisord.conf", "supervisord.dev.conf"):
            assert (pod, name) in names, f"images/{pod}/{name} is rendered"
    assert ("core", "nginx.conf") in names, "the core pod gets an NGINX config"
    assert ("business", "nginx.conf") not in names, "pods without a gateway get no NGINX config"


def test_the_render_script_writes_missing_files_and_check_reports_none_after(tmp_path: Path) -> None:
    written = write_files(tmp_path)
    assert set(written) == set(rendered_files()), "a fresh directory gets every rendered file"
    assert write_files(tmp_path) == [], "rendering twice changes nothing"
    assert main(["--check"]) == 0, "`python -m components.pods.render --check` passes on the committed tree"
