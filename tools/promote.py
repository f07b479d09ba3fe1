"""Pin a model package version in a stack's config: the change a promotion pull request carries.

    python -m tools.promote --to dev|prod (--version N | --from STACK) [--check] [--stack-dir DIR]

Rewrites `sagemaker-mlops:endpoint.modelPackageVersion` in `Pulumi.<to>.yaml` and nothing else:
comments, key order, quoting and indentation stay byte for byte. `--from dev` copies the version
that dev pins. The new config is validated like the program validates it before the file is
written.

`--check` asks SageMaker (boto3, the caller's credentials) whether the version exists in the
registry that the target stack deploys from and is Approved, and refuses otherwise. That registry
is the target stack's own model package group (`mlops-<environment>-churn` in the account of the
credentials and the stack's `aws:region`), the same ARN the program builds for the endpoint's model.
So `--to prod --from dev` pins the same version *number* in prod; `--check` proves that number is
an approved package in prod's registry, which is what `pulumi up --stack prod` will deploy.

Exit codes: 0 written (or already pinned), 1 refused by --check, 2 bad arguments or config.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from components.config import PROJECT, ConfigError, StackConfig, parse_stack_config
from components.training_pipeline import model_package_group_name
from tools.offline.stack_files import engine_config

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT_KEY = f"{PROJECT}:endpoint"
VERSION_KEY = "modelPackageVersion"
STACKS = ("dev", "prod")
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
# One scalar token as it appears in the file: quoted, or plain up to a space or a comment.
_SCALAR = re.compile(r"\"[^\"]*\"|'[^']*'|[^\s#,}\]]+")


class PromoteError(Exception):
    """Bad input or config: the message says what and where."""


class CheckFailed(Exception):
    """The registry says no: the version is missing or not approved."""


@dataclass(frozen=True)
class StackFile:
    stack: str
    path: Path
    text: str
    document: Any

    @property
    def config(self) -> CommentedMap:
        config = self.document.get("config") if isinstance(self.document, dict) else None
        if not isinstance(config, dict):
            raise PromoteError(f"{self.path.name}: no 'config:' map")
        return config

    @property
    def endpoint(self) -> CommentedMap:
        endpoint = self.config.get(ENDPOINT_KEY)
        if not isinstance(endpoint, dict):
            raise PromoteError(f"{self.path.name}: '{ENDPOINT_KEY}' is missing or not a map; add the endpoint settings first")
        return endpoint

    def pinned_version(self) -> Optional[int]:
        if VERSION_KEY not in self.endpoint:
            return None
        return parse_version(self.endpoint[VERSION_KEY], f"{self.path.name}: {ENDPOINT_KEY}.{VERSION_KEY}")


def parse_version(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit() or int(value) < 1:
        raise PromoteError(f"{where} = {value!r}: expected a model package version, an integer >= 1")
    return int(value)


def read_stack(stack_dir: Path, stack: str) -> StackFile:
    path = stack_dir / f"Pulumi.{stack}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromoteError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise PromoteError(f"{path.name} is not valid YAML: {exc}") from None
    return StackFile(stack, path, text, document)


def _offset(text: str, line: int, column: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(lines[i]) for i in range(line)) + column


def with_version(stack_file: StackFile, version: int) -> str:
    """The file's text with the version pinned: only that scalar changes (or one line is added)."""
    endpoint = stack_file.endpoint
    text = stack_file.text
    if VERSION_KEY in endpoint:
        line, column = endpoint.lc.value(VERSION_KEY)
        start = _offset(text, line, column)
        token = _SCALAR.match(text, start)
        if token is None:
            raise PromoteError(f"{stack_file.path.name}: cannot find the value of {VERSION_KEY} on line {line + 1}")
        return text[:start] + str(version) + text[token.end():]
    if endpoint.fa.flow_style() or not endpoint:
        raise PromoteError(
            f"{stack_file.path.name}: '{ENDPOINT_KEY}' is written in flow style ({{...}}) or empty; "
            f"add '{VERSION_KEY}: {version}' to it by hand"
        )
    # Added as the map's first key, indented like the key that is first now.
    first = next(iter(endpoint))
    line, column = endpoint.lc.key(first)
    start = _offset(text, line, 0)
    return text[:start] + " " * column + f"{VERSION_KEY}: {version}\n" + text[start:]


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def validate_change(stack_file: StackFile, new_text: str, version: int) -> StackConfig:
    """The new file parses, differs from the old one in the version only, and is a valid config."""
    document = YAML(typ="safe").load(new_text)
    expected = _plain(stack_file.document)
    expected["config"][ENDPOINT_KEY][VERSION_KEY] = version
    if document != expected:
        raise PromoteError(f"{stack_file.path.name}: the rewrite would change more than {VERSION_KEY}; nothing was written")
    config = document.get("config") or {}
    try:
        return parse_stack_config(engine_config(config), project=PROJECT, stack=stack_file.stack)
    except ConfigError as exc:
        raise PromoteError(str(exc)) from None


def check_registry(config: StackConfig, version: int, session: Any = None) -> str:
    """Raise CheckFailed unless the version is an Approved package in the stack's registry; return its ARN."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    session = session or boto3.session.Session()
    group = model_package_group_name(config.name_prefix)
    try:
        account = session.client("sts", region_name=config.region).get_caller_identity()["Account"]
        # SageMaker lower-cases group names in ARNs (the program builds the endpoint's ARN the same way).
        arn = f"arn:aws:sagemaker:{config.region}:{account}:model-package/{group.lower()}/{version}"
        described = session.client("sagemaker", region_name=config.region).describe_model_package(ModelPackageName=arn)
    except NoCredentialsError:
        raise PromoteError("--check needs AWS credentials (a role that may call sagemaker:DescribeModelPackage); none were found") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in ("ValidationException", "ResourceNotFound"):
            raise CheckFailed(
                f"model package version {version} does not exist in {group} ({config.region}): {error.get('Message', '')}"
            ) from None
        raise PromoteError(f"cannot check model package version {version} in {group}: {error.get('Code')}: {error.get('Message', '')}") from None
    except BotoCoreError as exc:
        raise PromoteError(f"cannot reach SageMaker to check version {version} in {group}: {exc}") from None
    status = described.get("ModelApprovalStatus", "unknown")
    if status != "Approved":
        raise CheckFailed(
            f"model package version {version} in {group} is {status}, not Approved: approve it in the model registry "
            f"(aws sagemaker update-model-package --model-package-arn {arn} --model-approval-status Approved) before promoting it"
        )
    return arn


def promote(stack_dir: Path, to: str, version: Optional[int], source: Optional[str], check: bool, session: Any = None) -> str:
    """Pin the version in the target stack; return what was done, one line per fact."""
    target = read_stack(stack_dir, to)
    if source is not None:
        if source == to:
            raise PromoteError(f"--from {source} and --to {to} name the same stack")
        version = read_stack(stack_dir, source).pinned_version()
        if version is None:
            raise PromoteError(f"{source} pins no model package version ({ENDPOINT_KEY}.{VERSION_KEY} is absent): nothing to promote")
    assert version is not None
    current = target.pinned_version()
    new_text = with_version(target, version)
    config = validate_change(target, new_text, version)
    lines = []
    if check:
        arn = check_registry(config, version, session)
        lines.append(f"checked: {arn} is Approved")
    origin = f" (the version {source} pins)" if source else ""
    if current == version:
        lines.append(f"{to}: already pins model package version {version}{origin}; nothing to change")
        return "\n".join(lines)
    target.path.write_text(new_text, encoding="utf-8")
    before = "absent" if current is None else str(current)
    lines.append(f"{to}: {ENDPOINT_KEY}.{VERSION_KEY} {before} -> {version}{origin} in {target.path.name}")
    return "\n".join(lines)


def _version_arg(value: str) -> int:
    try:
        return parse_version(value, "--version")
    except PromoteError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.promote", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--to", required=True, choices=STACKS, help="the stack whose pinned version changes")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", type=_version_arg, help="the model package version to pin")
    which.add_argument("--from", dest="source", choices=STACKS, help="copy the version this stack pins")
    parser.add_argument("--check", action="store_true", help="refuse unless the version exists in the target's registry and is Approved")
    parser.add_argument("--stack-dir", type=Path, default=ROOT, help="folder holding Pulumi.<stack>.yaml (default: the repository)")
    args = parser.parse_args(argv)
    try:
        print(promote(args.stack_dir, args.to, args.version, args.source, args.check))
    except CheckFailed as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except PromoteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
