"""What Docker sends as a build context: the files of a directory that its dockerignore rules admit.

The rules follow moby/patternmatcher, which BuildKit uses: blank lines and `#` comments are skipped, a
leading `!` re-admits, `*` and `?` never cross `/`, `**` spans any number of directories, a pattern that
matches a parent directory matches everything under it, and the last matching pattern wins. Used by the
build-context test and by scripts/context_bench.py (bytes per Big Pod, before and after).

`python -m tools.build_context <dir> [--ignore-file F]` prints the file count and bytes of a context.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_ESCAPE = set(".+()|{}$^")


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


def _compile(pattern: str) -> re.Pattern[str]:
    out = "^"
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if i + 1 < len(pattern) and pattern[i + 1] == "*":
                i += 2
                if i < len(pattern) and pattern[i] == "/":
                    i += 1
                out += ".*" if i >= len(pattern) else "(.*/)?"
                continue
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif ch in _ESCAPE:
            out += "\\" + ch
        else:
            out += ch
        i += 1
    return re.compile(out + "$")


def parse(text: str) -> tuple[Pattern, ...]:
    """Patterns of a dockerignore file, in order."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = os.path.normpath(line).replace(os.sep, "/").lstrip("/")
        if cleaned in ("", "."):
            continue
        patterns.append(Pattern(line, exclusion, _compile(cleaned)))
    return tuple(patterns)


def ignored(path: str, patterns: Iterable[Pattern]) -> bool:
    """Whether `path` (relative, `/`-separated) is left out: the last pattern matching it or a parent wins."""
    parts = PurePosixPath(path).parts
    parents = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
    result = False
    for pattern in patterns:
        if pattern.exclusion != result:
            continue
        if pattern.matches(path) or any(pattern.matches(parent) for parent in parents):
            result = not pattern.exclusion
    return result


def context_files(root: Path, patterns: Iterable[Pattern], prefix: str = "") -> Iterator[tuple[str, int]]:
    """(relative path, bytes) of every regular file or symlink Docker would send from `root`; `prefix`
    places `root` below the context's root (a directory of a larger context)."""
    patterns = tuple(patterns)
    base = prefix.strip("/") + "/" if prefix.strip("/") else ""
    can_readmit = any(p.exclusion for p in patterns)
    for directory, dirs, files in os.walk(root):
        relative_dir = Path(directory).relative_to(root).as_posix()
        here = base if relative_dir == "." else f"{base}{relative_dir}/"
        if not can_readmit:  # nothing under an ignored directory can come back: do not descend
            dirs[:] = [d for d in dirs if not ignored(here + d, patterns)]
        dirs.sort()
        for name in sorted(files):
            relative = here + name
            if not ignored(relative, patterns):
                full = Path(directory) / name
                yield relative, full.lstat().st_size


def context_size(root: Path, ignore_file: Path | None) -> tuple[int, int]:
    """(files, bytes) of the context `root` with the rules of `ignore_file` (none: everything)."""
    patterns = parse(ignore_file.read_text(encoding="utf-8")) if ignore_file and ignore_file.is_file() else ()
    files = total = 0
    for _, size in context_files(root, patterns):
        files += 1
        total += size
    return files, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_context", description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--ignore-file", type=Path, help="default: <root>/.dockerignore")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        what = "does not exist" if not args.root.exists() else "is not a directory"
        print(f"error: the build context {args.root} {what}", file=sys.stderr)
        return 2
    try:
        files, total = context_size(args.root, args.ignore_file or args.root / ".dockerignore")
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read the build context {args.root}: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    print(f"{args.root}: {files} files, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
