"""One YAML dumper for every rendered config file, so they all look alike."""

from __future__ import annotations

from collections.abc import Mapping

import yaml


def dump_yaml(document: Mapping[str, object]) -> str:
    """Serialise plain data (dicts, lists, str, int, float, bool, None) with PyYAML's safe dumper.

    `safe_dump` quotes every string that would otherwise read back as another type ("30d", "2024-04-01",
    "true"), so values round-trip exactly; `sort_keys=False` keeps the order the generator chose.
    """
    text: str = yaml.safe_dump(dict(document), sort_keys=False, default_flow_style=False, allow_unicode=True)
    return text
