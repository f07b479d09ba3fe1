"""A disk cache for generated pipeline definitions.

Generating a definition imports the sagemaker SDK (seconds of CPU) on every `pulumi preview`/`up`
and every offline preview, although the result only changes when its inputs do. Generation is
deterministic, so the JSON is cached under a key made of every input, the SDK's version and the
generator's own source files: a change to any of them is a new key, never a stale hit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

CACHE_DIR_ENV = "SAGEMAKER_MLOPS_CACHE_DIR"


def cache_dir() -> Path:
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sagemaker-mlops" / "pipeline-definitions"


def _canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _sources(generator_source: Path | Iterable[Path]) -> list[Path]:
    return [generator_source] if isinstance(generator_source, Path) else sorted(generator_source)


def cache_key(args: Any, generator_source: Path | Iterable[Path]) -> str:
    """Every input, the SDK's version and the bytes of every generator source file (with its name,
    so moving code from one file to another is a new key too)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(_canonical(args), sort_keys=True, default=str).encode())
    digest.update(metadata.version("sagemaker").encode())
    for source in _sources(generator_source):
        digest.update(source.name.encode() + b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()


def cached(build: Callable[[Any], str], args: Any, generator_source: Path | Iterable[Path]) -> str:
    """`build(args)`, read from the cache when the same inputs were built before."""
    directory = cache_dir()
    path = directory / f"{cache_key(args, generator_source)}.json"
    try:
        return path.read_text()
    except OSError:
        pass
    definition = build(args)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed: a concurrent reader sees the whole file or none.
        with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".tmp", delete=False) as tmp:
            tmp.write(definition)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only home only costs the next run the generation time
    return definition
