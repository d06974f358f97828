"""The base of every config section: one set of parsing rules for the whole stack configuration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Section(BaseModel):
    """Shared settings: camelCase keys, unknown keys rejected, values immutable once validated."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False,
        use_attribute_docstrings=True,
    )
