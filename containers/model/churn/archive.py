"""The model archive a pipeline's processing steps receive: SageMaker packs a training job's
`/opt/ml/model` into `model.tar.gz`, and a processing input downloads that object as it is (File
mode, not extracted). evaluate and seal both read it, and both vouch for the same bytes by their
SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from churn.errors import JobError

ARCHIVE = "model.tar.gz"
_CHUNK = 8 * 1024 * 1024


def archive_sha256(archive: Path) -> str:
    """The SHA-256 of the archive's bytes as received, read before anything is extracted."""
    digest = hashlib.sha256()
    try:
        with archive.open("rb") as file:
            for chunk in iter(lambda: file.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError as error:
        raise JobError(f"cannot read {archive}: {error}") from None
    return digest.hexdigest()
