"""Promotion by identity: pin in a stack's config the model package version it must serve.

    python -m tools.promote --to dev --version N [--check]
    python -m tools.promote --to prod [--version N | --from dev] [--check] [--dev-outputs FILE]
    python -m tools.promote --verify prod [--dev-outputs FILE]
    (all take --stack-dir DIR: the folder holding Pulumi.<stack>.yaml, default the repository)

Both stacks serve packages of one registry, owned by dev (prod names it in registry.stack), so a
version number names one package: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<N>.

`--to prod` pins the version dev serves and refuses (exit 1, one line) any other. What dev serves
is dev's stack output `modelPackageArn` when a Pulumi backend answers (`pulumi stack output
--json --stack <registry.stack>`, or the JSON file --dev-outputs), else the pin in Pulumi.dev.yaml
of the same commit. With AWS credentials (or --check, which requires them) the package must be
`Approved` (sagemaker DescribeModelPackage), else refused.

`--verify prod` (deploy.yml, right before `pulumi up --stack prod`): the version Pulumi.prod.yaml
pins is the one dev serves - read from dev's stack outputs only (--dev-outputs or the backend; it
fails closed, never falling back to Pulumi.dev.yaml) - and, with the caller's credentials (required),
is still Approved and its ModelDataUrl still holds the bytes whose SHA-256 the package records
(CustomerMetadataProperties ModelDataSha256: tools/promote/artifact.py, docs/promotion.md).

Only `endpoint.modelPackageVersion` changes in the file: comments, key order, quoting and
indentation stay byte for byte, and the new config is validated as the program validates it.

Exit codes: 0 written, already pinned or verified; 1 refused (one line on stderr saying why);
2 bad arguments, config or missing credentials.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

from tools.promote.artifact import check_artifact
from tools.promote.registry import (
    check_approved,
    describe_approved,
    dev_served,
    has_credentials,
    owner_config,
    package_arn,
    registry_stack,
)
from tools.promote.stack_file import (
    ENDPOINT_KEY,
    VERSION_KEY,
    CheckFailed,
    PromoteError,
    parse_version,
    read_stack,
    validate_change,
    with_version,
)

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod")
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

# ---- the commands ----------------------------------------------------------------------------------


def promote(
    stack_dir: Path,
    to: str,
    version: Optional[int],
    source: Optional[str],
    check: bool,
    session: Any = None,
    dev_outputs: Optional[Path] = None,
) -> str:
    """Pin the version in the target stack; return what was done, one line per fact."""
    target = read_stack(stack_dir, to)
    if source is not None and source == to:
        raise PromoteError(f"--from {source} and --to {to} name the same stack")
    lines = []
    arn: Optional[str] = None
    origin = ""
    if to == "dev":
        if version is None:
            raise PromoteError("--to dev needs --version N: the approved model package version dev should serve")
    else:
        served = dev_served(stack_dir, target, dev_outputs)
        if version is not None and version != served.version:
            raise CheckFailed(
                f"version {version} is not the version dev serves ({served.version}, from {served.source}): prod serves only what dev "
                f"served; pin {version} in dev first (python -m tools.promote --to dev --version {version}), then promote it"
            )
        version, arn = served.version, served.arn
        origin = f" (the version dev serves, from {served.source})"
    current = target.pinned_version()
    new_text = with_version(target, version)
    validate_change(target, new_text, version)
    if check or has_credentials(session):
        if arn is None:
            arn = package_arn(
                owner_config(stack_dir, "dev" if to == "dev" else registry_stack(target).rsplit("/", 1)[-1]), version, session
            )
        lines.append(f"checked: {check_approved(arn, session)} is Approved")
    else:
        lines.append("not checked: no AWS credentials (the promote workflow and deploy.yml check that the package is Approved)")
    if current == version:
        lines.append(f"{to}: already pins model package version {version}{origin}; nothing to change")
        return "\n".join(lines)
    target.path.write_text(new_text, encoding="utf-8")
    before = "absent" if current is None else str(current)
    lines.append(f"{to}: {ENDPOINT_KEY}.{VERSION_KEY} {before} -> {version}{origin} in {target.path.name}")
    return "\n".join(lines)


def verify(stack_dir: Path, stack: str, session: Any = None, dev_outputs: Optional[Path] = None) -> str:
    """The version `stack` pins is the one dev serves and is still Approved (credentials required)."""
    target = read_stack(stack_dir, stack)
    pinned = target.pinned_version()
    if pinned is None:
        return f"{stack} pins no model package version: it serves no endpoint, nothing to verify"
    if not has_credentials(session):
        raise PromoteError(f"--verify {stack} needs AWS credentials (a role that may call sagemaker:DescribeModelPackage); none were found")
    served = dev_served(stack_dir, target, dev_outputs, fail_closed=True)
    if pinned != served.version:
        raise CheckFailed(
            f"{stack} pins model package version {pinned} but dev serves version {served.version} (from {served.source}): "
            f"promote the version dev serves (python -m tools.promote --to {stack})"
        )
    arn = served.arn or package_arn(owner_config(stack_dir, registry_stack(target).rsplit("/", 1)[-1]), pinned, session)
    described = describe_approved(arn, session)
    bytes_fact = check_artifact(described, session or _session(arn.split(":")[3]))
    return (
        f"verified: {stack} pins {arn}, the package dev serves ({served.source}), it is Approved, "
        f"and its model data is the registered bytes ({bytes_fact})"
    )


def _session(region: str) -> Any:
    import boto3

    return boto3.session.Session(region_name=region)


def _version_arg(value: str) -> int:
    try:
        return parse_version(value, "--version")
    except PromoteError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.promote", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--to", choices=STACKS, help="the stack whose pinned version changes")
    action.add_argument("--verify", choices=STACKS, help="check the stack's pin is what dev serves and is Approved (exit 1 if not)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=_version_arg, help="the model package version to pin (prod: must be the version dev serves)")
    which.add_argument("--from", dest="source", choices=STACKS, help="prod: the version dev serves (the default)")
    parser.add_argument(
        "--check", action="store_true", help="require AWS credentials and an Approved package (done anyway when credentials exist)"
    )
    parser.add_argument(
        "--dev-outputs", type=Path, help="dev's outputs as `pulumi stack output --json` prints them (default: ask the backend)"
    )
    parser.add_argument("--stack-dir", type=Path, default=ROOT, help="folder holding Pulumi.<stack>.yaml (default: the repository)")
    args = parser.parse_args(argv)
    if args.verify and (args.version or args.source or args.check):
        parser.error("--verify takes no --version, --from or --check")
    if args.verify == "dev":
        parser.error("--verify dev: dev is the registry's own stack; verify the stack that serves it (prod)")
    if args.source == "dev" and args.to == "dev":
        parser.error("--from dev and --to dev name the same stack")
    try:
        if args.verify:
            print(verify(args.stack_dir, args.verify, dev_outputs=args.dev_outputs))
        else:
            print(promote(args.stack_dir, args.to, args.version, args.source, args.check, dev_outputs=args.dev_outputs))
    except CheckFailed as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except PromoteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
