"""The prediction API's code archive and the Powertools layer it runs with (used by CanaryApi).

Packaging: the archive holds the source of `containers/api` only; Powertools comes from AWS's
public Powertools layer, resolved at deploy time from its public SSM parameter for exactly the
version `containers/api/requirements.txt` pins. Nothing is installed during `pulumi up`, and the
archive is the same bytes for the same source (Pulumi zips assets in name order with a constant
timestamp), so an unchanged API publishes no version and starts no deployment. The cost: boto3 and
botocore are the Lambda runtime's own (older than the pinned ones the tests ran), and the API's
own modules are not byte-compiled (they are small; whether the layer ships .pyc files is up to
AWS). The alternative, vendoring the pinned requirements into the archive, needs a pip install
with CPython 3.12 at every `pulumi up` (see containers/api/requirements.txt).

Identity: the prediction function's description carries `code sha256:<digest>` of the archive's
members (names and bytes, code_digest), so the version an alias serves says which code it runs and
`tools.promote --restore` finds that code in Git history. A description changes only with the code,
which publishes a version anyway.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Mapping, Optional

import pulumi

API_SOURCE_DIR = "containers/api"  # relative to the project directory, the engine's working directory
# Only what the functions import or read: caches, local virtualenvs and editor files never reach
# the archive (and so never publish a version).
ARCHIVE_SUFFIXES = (".py", ".json")
ARCHIVE_EXCLUDED_DIRS = ("__pycache__", "tests", ".pytest_cache", ".venv", "venv")
RUNTIME = "python3.12"
ARCHITECTURE = "x86_64"
# AWS publishes the ARN of each Powertools layer release here (one parameter per version).
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/{architecture}/{runtime}/{version}"
# Lambda's Description holds at most 256 characters (botocore's Lambda model): the summary and the
# digest label stay well under it (checked by the tests).
DESCRIPTION_MAX = 256
CODE_DIGEST_LABEL = "code sha256:"
_CODE_DIGEST = re.compile(re.escape(CODE_DIGEST_LABEL) + r"(?P<digest>[0-9a-f]{64})\b")
_POWERTOOLS_PIN = re.compile(r"^aws-lambda-powertools==(?P<version>\d+\.\d+\.\d+)\s*(#.*)?$", re.MULTILINE)


def pinned_powertools_version(requirements: Path) -> str:
    """The Powertools version containers/api/requirements.txt pins (the one the tests ran)."""
    try:
        text = requirements.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read {requirements}: {exc.strerror}") from None
    match = _POWERTOOLS_PIN.search(text)
    if match is None:
        raise ValueError(f"{requirements} does not pin aws-lambda-powertools==X.Y.Z; the layer version is taken from that pin")
    return match["version"]


def powertools_layer_parameter(version: str) -> str:
    return POWERTOOLS_LAYER_PARAMETER.format(architecture=ARCHITECTURE, runtime=RUNTIME, version=version)


def is_archived(name: str) -> bool:
    """Whether the file `name` (POSIX, relative to the source folder) is an archive member."""
    path = PurePosixPath(name)
    return path.suffix in ARCHIVE_SUFFIXES and not set(path.parts[:-1]) & set(ARCHIVE_EXCLUDED_DIRS)


def archive_files(source_dir: Path) -> list[str]:
    """Archive member names (POSIX, relative to `source_dir`), sorted."""
    if not (source_dir / "predict.py").is_file():
        raise ValueError(f"{source_dir} has no predict.py: run the program from the project directory (cwd is {Path.cwd()})")
    names = [path.relative_to(source_dir).as_posix() for path in source_dir.rglob("*") if path.is_file()]
    return sorted(name for name in names if is_archived(name))


def code_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 of the archive members among `files` (name -> bytes; other files are ignored): the
    same for a working tree (source_digest) and for a commit read from Git (tools/promote)."""
    digest = hashlib.sha256()
    for name in sorted(n for n in files if is_archived(n)):
        encoded = name.encode("utf-8")
        # Lengths delimit every field, so no two different archives hash the same byte stream.
        digest.update(b"%d:%s%d:" % (len(encoded), encoded, len(files[name])))
        digest.update(files[name])
    return digest.hexdigest()


def source_digest(source_dir: Path) -> str:
    return code_digest({name: (source_dir / name).read_bytes() for name in archive_files(source_dir)})


def described(summary: str, digest: str) -> str:
    """A function description naming its code: `<summary> (code sha256:<digest>)`."""
    description = f"{summary} ({CODE_DIGEST_LABEL}{digest})"
    if len(description) > DESCRIPTION_MAX:
        raise ValueError(f"the function description is {len(description)} characters; Lambda allows {DESCRIPTION_MAX}")
    return description


def described_digest(description: Optional[str]) -> Optional[str]:
    """The code digest a description names (described), or None."""
    match = _CODE_DIGEST.search(description or "")
    return match["digest"] if match else None


def source_archive(source_dir: str) -> pulumi.AssetArchive:
    """The functions' code. Paths stay relative to the project directory: the asset is compared by
    content hash, and the state does not depend on where the checkout lives."""
    root = Path(source_dir)
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(root / name)) for name in archive_files(root)})
