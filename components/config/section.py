"""The base of every config section: one set of parsing rules for the whole stack configuration."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

from components.config import rules


class Section(BaseModel):
    """Shared settings: camelCase keys, unknown keys rejected, values immutable once validated."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False,
        use_attribute_docstrings=True,
    )


def _int64(value: int) -> int:
    if not rules.INT64_MIN <= value <= rules.INT64_MAX:
        raise ValueError(f"{value} overflows a 64-bit integer (Go's int64, the Kubernetes API's int64 fields)")
    return value


ConfigInt = Annotated[int, BeforeValidator(rules.config_int), AfterValidator(_int64)]
"""Every integer setting: digits as written (never a boolean, a float or padded text), within int64."""
ConfigBool = Annotated[bool, BeforeValidator(rules.config_bool)]
"""Every on/off setting: `true` or `false` (as the engine passes them, "true"/"false"), never 1, "yes" or "on"."""
