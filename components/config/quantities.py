"""Parse and validate the quantity formats people write in stack files.

Kubernetes quantities (`500m`, `2`, `512Mi`, `4Gi`) size containers; PostgreSQL (`2GB`, `10MB`) and Redis
(`2gb`) use their own units. Each parser returns a number for budgets and rejects anything malformed.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_CPU = re.compile(r"(?P<num>[0-9]+(\.[0-9]+)?)(?P<unit>m?)")
_MEMORY = re.compile(r"(?P<num>[0-9]+(\.[0-9]+)?)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?")
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
_PG_MEMORY = re.compile(r"(?P<num>[0-9]+)(?P<unit>kB|MB|GB|TB)")
_PG_FACTORS = {"kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
_REDIS_MEMORY = re.compile(r"(?P<num>[0-9]+)(?P<unit>kb|mb|gb)", re.IGNORECASE)
_REDIS_FACTORS = {"kb": 2**10, "mb": 2**20, "gb": 2**30}


def cpu_millicores(value: str) -> int:
    """`"500m"` -> 500, `"2"` -> 2000, `"0.5"` -> 500."""
    match = _CPU.fullmatch(str(value))
    if not match:
        raise ValueError(f"expected a CPU quantity such as '500m' or '2', got {value!r}")
    number = float(match["num"])
    millis = number if match["unit"] == "m" else number * 1000
    if millis <= 0:
        raise ValueError(f"a CPU quantity must be positive, got {value!r}")
    return round(millis)


def memory_bytes(value: str) -> int:
    """`"512Mi"` -> 536870912. Accepts the Kubernetes binary and decimal suffixes."""
    match = _MEMORY.fullmatch(str(value))
    if not match:
        raise ValueError(f"expected a memory quantity such as '512Mi' or '4Gi', got {value!r}")
    size = round(float(match["num"]) * _MEMORY_FACTORS[match["unit"]])
    if size <= 0:
        raise ValueError(f"a memory quantity must be positive, got {value!r}")
    return size


def postgres_memory_bytes(value: str) -> int:
    """PostgreSQL memory settings use kB/MB/GB/TB (case-sensitive)."""
    match = _PG_MEMORY.fullmatch(str(value))
    if not match:
        raise ValueError(f"expected a PostgreSQL memory setting such as '256MB' or '2GB', got {value!r}")
    return int(match["num"]) * _PG_FACTORS[match["unit"]]


# PostgreSQL GUC bounds (src/backend/utils/misc/guc_tables.c), in each setting's base unit. Memory GUCs
# in 8kB blocks are converted from kB and rounded half to even (guc.c convert_to_base_unit uses rint()).
_INT_MAX = 2**31 - 1
PG_BLOCK_KB = 8
PG_MEMORY_GUCS: dict[str, tuple[int, int, int]] = {
    # name: (base unit in kB, minimum, maximum)
    "shared_buffers": (PG_BLOCK_KB, 16, _INT_MAX // 2),
    "effective_cache_size": (PG_BLOCK_KB, 1, _INT_MAX),
    "work_mem": (1, 64, _INT_MAX),  # MAX_KILOBYTES is INT_MAX on 64-bit builds
}


def postgres_guc_base_units(name: str, value: str) -> int:
    """`value` of memory GUC `name` in the server's base unit; refuses what the server refuses."""
    unit_kb, low, high = PG_MEMORY_GUCS[name]
    size = postgres_memory_bytes(value)
    units = round(size / 1024 / unit_kb)
    if not low <= units <= high:
        shown = "8kB blocks" if unit_kb == PG_BLOCK_KB else "kB"
        raise ValueError(
            f"PostgreSQL accepts {name} from {low} to {high} {shown} "
            f"({format_bytes(low * unit_kb * 1024)} to {format_bytes(high * unit_kb * 1024)}), got {value!r}"
        )
    return units


def redis_memory_bytes(value: str) -> int:
    match = _REDIS_MEMORY.fullmatch(str(value))
    if not match:
        raise ValueError(f"expected a Redis memory setting such as '256mb' or '2gb', got {value!r}")
    return int(match["num"]) * _REDIS_FACTORS[match["unit"].lower()]


def redis_maxmemory_bytes(value: str) -> int:
    """Redis reads `maxmemory 0` as *no limit* (redis.conf), which a container limit turns into an OOM
    kill instead of eviction: a positive limit is required."""
    size = redis_memory_bytes(value)
    if size <= 0:
        raise ValueError(f"maxmemory {value!r} means 'no limit' to Redis; set a positive size below the memory limit")
    return size


JVM_HEAP_SHARE = 0.5
JVM_MIN_HEAP_MIB = 128


def jvm_heap_bytes(memory_limit: str) -> int:
    """The heap a JVM service gets (`-Xmx`): half its memory limit, in whole MiB, and at least 128MiB,
    leaving the rest for page cache and off-heap memory."""
    return max(JVM_MIN_HEAP_MIB, int(memory_bytes(memory_limit) * JVM_HEAP_SHARE) // 2**20) * 2**20


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


def _guc(name: str) -> AfterValidator:
    def check(value: str) -> str:
        postgres_guc_base_units(name, value)
        return value

    return AfterValidator(check)


SharedBuffers = Annotated[str, _guc("shared_buffers")]
EffectiveCacheSize = Annotated[str, _guc("effective_cache_size")]
WorkMem = Annotated[str, _guc("work_mem")]
RedisMaxmemory = Annotated[str, _checked(redis_maxmemory_bytes)]
