"""Parse and validate the quantity formats people write in stack files.

Kubernetes quantities (`500m`, `2`, `512Mi`, `4Gi`) size containers; PostgreSQL (`2GB`, `10MB`) and Redis
(`2gb`) use their own units. Each parser returns a number for budgets and rejects anything malformed.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_CPU = re.compile(r"^(?P<num>\d+(\.\d+)?)(?P<unit>m?)$")
_MEMORY = re.compile(r"^(?P<num>\d+(\.\d+)?)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_PG_MEMORY = re.compile(r"^(?P<num>\d+)(?P<unit>kB|MB|GB|TB)$")
_PG_FACTORS = {"kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
_REDIS_MEMORY = re.compile(r"^(?P<num>\d+)(?P<unit>kb|mb|gb)$", re.IGNORECASE)
_REDIS_FACTORS = {"kb": 2**10, "mb": 2**20, "gb": 2**30}


def cpu_millicores(value: str) -> int:
    """`"500m"` -> 500, `"2"` -> 2000, `"0.5"` -> 500."""
    match = _CPU.match(str(value))
    if not match:
        raise ValueError(f"expected a CPU quantity such as '500m' or '2', got {value!r}")
    number = float(match["num"])
    millis = number if match["unit"] == "m" else number * 1000
    if millis <= 0:
        raise ValueError(f"a CPU quantity must be positive, got {value!r}")
    return round(millis)


def memory_bytes(value: str) -> int:
    """`"512Mi"` -> 536870912. Accepts the Kubernetes binary and decimal suffixes."""
    match = _MEMORY.match(str(value))
    if not match:
        raise ValueError(f"expected a memory quantity such as '512Mi' or '4Gi', got {value!r}")
    size = round(float(match["num"]) * _MEMORY_FACTORS[match["unit"]])
    if size <= 0:
        raise ValueError(f"a memory quantity must be positive, got {value!r}")
    return size


def postgres_memory_bytes(value: str) -> int:
    """PostgreSQL memory settings use kB/MB/GB/TB (case-sensitive)."""
    match = _PG_MEMORY.match(str(value))
    if not match:
        raise ValueError(f"expected a PostgreSQL memory setting such as '256MB' or '2GB', got {value!r}")
    return int(match["num"]) * _PG_FACTORS[match["unit"]]


def redis_memory_bytes(value: str) -> int:
    match = _REDIS_MEMORY.match(str(value))
    if not match:
        raise ValueError(f"expected a Redis memory setting such as '256mb' or '2gb', got {value!r}")
    return int(match["num"]) * _REDIS_FACTORS[match["unit"].lower()]


def format_bytes(size: int) -> str:
    """Human form for messages: 6442450944 -> '6.0 GiB'."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(size) >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


def _checked(parser: object) -> AfterValidator:
    def check(value: str) -> str:
        parser(value)  # type: ignore[operator]
        return value

    return AfterValidator(check)


CpuQuantity = Annotated[str, _checked(cpu_millicores)]
MemoryQuantity = Annotated[str, _checked(memory_bytes)]
PostgresMemory = Annotated[str, _checked(postgres_memory_bytes)]
RedisMemory = Annotated[str, _checked(redis_memory_bytes)]
