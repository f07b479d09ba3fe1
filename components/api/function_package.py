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
"""

from __future__ import annotations

import re
from pathlib import Path

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


def archive_files(source_dir: Path) -> list[str]:
    """Archive member names (POSIX, relative to `source_dir`), sorted."""
    if not (source_dir / "predict.py").is_file():
        raise ValueError(f"{source_dir} has no predict.py: run the program from the project directory (cwd is {Path.cwd()})")
    names = []
    for path in source_dir.rglob("*"):
        relative = path.relative_to(source_dir)
        if path.is_file() and path.suffix in ARCHIVE_SUFFIXES and not set(relative.parts[:-1]) & set(ARCHIVE_EXCLUDED_DIRS):
            names.append(relative.as_posix())
    return sorted(names)


def source_archive(source_dir: str) -> pulumi.AssetArchive:
    """The functions' code. Paths stay relative to the project directory: the asset is compared by
    content hash, and the state does not depend on where the checkout lives."""
    root = Path(source_dir)
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(root / name)) for name in archive_files(root)})
