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
pins is the one dev serves and, with the caller's credentials (required), is still Approved.

Only `endpoint.modelPackageVersion` changes in the file: comments, key order, quoting and
indentation stay byte for byte, and the new config is validated as the program validates it.

Exit codes: 0 written, already pinned or verified; 1 refused (one line on stderr saying why);
2 bad arguments, config or missing credentials.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from components.config import PROJECT, ConfigError, StackConfig, parse_stack_config
from components.registry import SERVED_PACKAGE_OUTPUT
from components.training_pipeline import model_package_group_name
from tools.offline.stack_files import engine_config

ROOT = Path(__file__).resolve().parent.parent
ENDPOINT_KEY = f"{PROJECT}:endpoint"
REGISTRY_KEY = f"{PROJECT}:registry"
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


# ---- what dev serves -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Served:
    """The package the registry's stack serves, and where that fact came from."""

    version: int
    arn: Optional[str]
    source: str


def registry_stack(prod: StackFile) -> str:
    registry = prod.config.get(REGISTRY_KEY)
    name = registry.get("stack") if isinstance(registry, dict) else None
    if not isinstance(name, str) or not name:
        raise PromoteError(
            f"{prod.path.name}: {REGISTRY_KEY}.stack is not set, so {prod.stack} owns a registry of its own; promotion by "
            f"identity needs {prod.stack} to serve the registry of the stack it is promoted from (registry.stack: <org>/{PROJECT}/dev)"
        )
    return name


def _outputs_from_backend(stack_dir: Path, stack_name: str) -> tuple[Optional[dict[str, Any]], str]:
    """dev's outputs through the Pulumi CLI, or (None, why not)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None, "no Pulumi CLI"
    try:
        done = subprocess.run(
            [pulumi, "stack", "output", "--json", "--stack", stack_name, "--non-interactive"],
            cwd=stack_dir, capture_output=True, text=True, timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"pulumi stack output failed: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["exit code " + str(done.returncode)])[-1]
        return None, f"pulumi stack output failed: {last}"
    try:
        outputs = json.loads(done.stdout)
    except ValueError:
        return None, "pulumi stack output printed no JSON"
    return (outputs, "") if isinstance(outputs, dict) else (None, "pulumi stack output printed no JSON object")


def served_from_outputs(outputs: dict[str, Any], source: str) -> Served:
    arn = outputs.get(SERVED_PACKAGE_OUTPUT)
    if not isinstance(arn, str) or not arn:
        raise CheckFailed(f"dev serves no model package: {source} has no {SERVED_PACKAGE_OUTPUT} (dev pins no version, or has not been deployed)")
    version = parse_version(arn.rsplit("/", 1)[-1], f"{source}: {SERVED_PACKAGE_OUTPUT} {arn}")
    return Served(version, arn, source)


def dev_served(stack_dir: Path, prod: StackFile, dev_outputs: Optional[Path] = None) -> Served:
    """What the registry's stack serves: its outputs (file, else backend), else its stack file's pin."""
    name = registry_stack(prod)
    short = name.rsplit("/", 1)[-1]
    if dev_outputs is not None:
        try:
            outputs = json.loads(dev_outputs.read_text())
        except (OSError, ValueError) as exc:
            raise PromoteError(f"--dev-outputs {dev_outputs}: cannot read it as JSON ({exc})") from None
        if not isinstance(outputs, dict):
            raise PromoteError(f"--dev-outputs {dev_outputs}: expected the JSON object `pulumi stack output --json` prints")
        return served_from_outputs(outputs, f"the outputs in {dev_outputs.name}")
    outputs, why_not = _outputs_from_backend(stack_dir, name)
    if outputs is not None:
        return served_from_outputs(outputs, f"{name}'s stack output")
    version = read_stack(stack_dir, short).pinned_version()
    if version is None:
        raise CheckFailed(f"dev serves no model package: Pulumi.{short}.yaml pins none ({ENDPOINT_KEY}.{VERSION_KEY} is absent)")
    # stdout: a refusal stays one line on stderr.
    print(f"note: {name}'s stack outputs are not available ({why_not}); using the pin in Pulumi.{short}.yaml")
    return Served(version, None, f"the pin in Pulumi.{short}.yaml")


# ---- the registry ----------------------------------------------------------------------------------

def has_credentials(session: Any = None) -> bool:
    import boto3

    session = session or boto3.session.Session()
    return session.get_credentials() is not None


def package_arn(owner: StackConfig, version: int, session: Any = None) -> str:
    """The shared group's package ARN in the credentials' account (the owner's, when its outputs are unknown)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    session = session or boto3.session.Session()
    try:
        account = session.client("sts", region_name=owner.region).get_caller_identity()["Account"]
    except NoCredentialsError:
        raise PromoteError("checking the registry needs AWS credentials (a role that may call sagemaker:DescribeModelPackage); none were found") from None
    except (BotoCoreError, ClientError) as exc:
        raise PromoteError(f"cannot read the caller's account (sts:GetCallerIdentity): {exc}") from None
    # SageMaker lower-cases group names in ARNs (the program builds the endpoint's ARN the same way).
    return f"arn:aws:sagemaker:{owner.region}:{account}:model-package/{model_package_group_name(owner.name_prefix).lower()}/{version}"


def check_approved(arn: str, session: Any = None) -> str:
    """Raise CheckFailed unless the package exists and is Approved; return the ARN."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    session = session or boto3.session.Session()
    region = arn.split(":")[3]
    group, version = arn.rsplit("/", 2)[-2:]
    try:
        described = session.client("sagemaker", region_name=region).describe_model_package(ModelPackageName=arn)
    except NoCredentialsError:
        raise PromoteError("checking the registry needs AWS credentials (a role that may call sagemaker:DescribeModelPackage); none were found") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in ("ValidationException", "ResourceNotFound"):
            raise CheckFailed(f"model package version {version} does not exist in {group} ({region}): {error.get('Message', '')}") from None
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


def owner_config(stack_dir: Path, stack: str) -> StackConfig:
    stack_file = read_stack(stack_dir, stack)
    try:
        return parse_stack_config(engine_config(_plain(stack_file.config)), project=PROJECT, stack=stack)
    except ConfigError as exc:
        raise PromoteError(str(exc)) from None


# ---- the commands ----------------------------------------------------------------------------------

def promote(
    stack_dir: Path, to: str, version: Optional[int], source: Optional[str], check: bool, session: Any = None, dev_outputs: Optional[Path] = None
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
            arn = package_arn(owner_config(stack_dir, "dev" if to == "dev" else registry_stack(target).rsplit("/", 1)[-1]), version, session)
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
    served = dev_served(stack_dir, target, dev_outputs)
    if pinned != served.version:
        raise CheckFailed(
            f"{stack} pins model package version {pinned} but dev serves version {served.version} (from {served.source}): "
            f"promote the version dev serves (python -m tools.promote --to {stack})"
        )
    arn = served.arn or package_arn(owner_config(stack_dir, registry_stack(target).rsplit("/", 1)[-1]), pinned, session)
    check_approved(arn, session)
    return f"verified: {stack} pins {arn}, the package dev serves ({served.source}), and it is Approved"


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
    parser.add_argument("--check", action="store_true", help="require AWS credentials and an Approved package (done anyway when credentials exist)")
    parser.add_argument("--dev-outputs", type=Path, help="dev's outputs as `pulumi stack output --json` prints them (default: ask the backend)")
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
