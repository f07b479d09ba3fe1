"""What tools.promote asks outside the repository: the version the registry's stack (dev) serves,
from its outputs (a file, else the Pulumi backend) or else its pin, and whether the registry holds
that package Approved (boto3, with the caller's credentials)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from components.config.stack import PROJECT, ConfigError, StackConfig, parse_stack_config
from components.training.pipeline import model_package_group_name
from components.training.registry import SERVED_PACKAGE_OUTPUT
from tools.offline.stack_files import engine_config
from tools.promote.stack_file import (
    ENDPOINT_KEY,
    REGISTRY_KEY,
    VERSION_KEY,
    CheckFailed,
    PromoteError,
    StackFile,
    parse_version,
    plain,
    read_stack,
)

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
    # The workflows name the verified CLI by absolute path ($PULUMI): a `pulumi` earlier on PATH is
    # never asked. Without it (a laptop) the one on PATH.
    pulumi = os.environ.get("PULUMI") or shutil.which("pulumi")
    if pulumi is None:
        return None, "no Pulumi CLI (set PULUMI to its path, or put it on PATH)"
    try:
        done = subprocess.run(
            [pulumi, "stack", "output", "--json", "--stack", stack_name, "--non-interactive"],
            cwd=stack_dir,
            capture_output=True,
            text=True,
            timeout=120,
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
        raise CheckFailed(
            f"dev serves no model package: {source} has no {SERVED_PACKAGE_OUTPUT} (dev pins no version, or has not been deployed)"
        )
    version = parse_version(arn.rsplit("/", 1)[-1], f"{source}: {SERVED_PACKAGE_OUTPUT} {arn}")
    return Served(version, arn, source)


def dev_served(stack_dir: Path, prod: StackFile, dev_outputs: Optional[Path] = None, fail_closed: bool = False) -> Served:
    """What the registry's stack serves: its outputs (file, else backend), else its stack file's pin.

    `fail_closed` (--verify): only the outputs count; when they cannot be read the answer is a refusal,
    never the pin in Pulumi.dev.yaml (a file says what dev should serve, not what it serves)."""
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
    if fail_closed:
        raise CheckFailed(
            f"cannot read what dev serves: {name}'s stack outputs are not available ({why_not}); the pin in "
            f"Pulumi.{short}.yaml is not evidence of what dev serves, so nothing is verified"
        )
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
        raise PromoteError(
            "checking the registry needs AWS credentials (a role that may call sagemaker:DescribeModelPackage); none were found"
        ) from None
    except (BotoCoreError, ClientError) as exc:
        raise PromoteError(f"cannot read the caller's account (sts:GetCallerIdentity): {exc}") from None
    # SageMaker lower-cases group names in ARNs (the program builds the endpoint's ARN the same way).
    return f"arn:aws:sagemaker:{owner.region}:{account}:model-package/{model_package_group_name(owner.name_prefix).lower()}/{version}"


def check_approved(arn: str, session: Any = None) -> str:
    """Raise CheckFailed unless the package exists and is Approved; return the ARN."""
    describe_approved(arn, session)
    return arn


def describe_approved(arn: str, session: Any = None) -> dict[str, Any]:
    """DescribeModelPackage of an existing, Approved package; CheckFailed otherwise."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    session = session or boto3.session.Session()
    region = arn.split(":")[3]
    group, version = arn.rsplit("/", 2)[-2:]
    try:
        described = session.client("sagemaker", region_name=region).describe_model_package(ModelPackageName=arn)
    except NoCredentialsError:
        raise PromoteError(
            "checking the registry needs AWS credentials (a role that may call sagemaker:DescribeModelPackage); none were found"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in ("ValidationException", "ResourceNotFound"):
            raise CheckFailed(f"model package version {version} does not exist in {group} ({region}): {error.get('Message', '')}") from None
        raise PromoteError(
            f"cannot check model package version {version} in {group}: {error.get('Code')}: {error.get('Message', '')}"
        ) from None
    except BotoCoreError as exc:
        raise PromoteError(f"cannot reach SageMaker to check version {version} in {group}: {exc}") from None
    status = described.get("ModelApprovalStatus", "unknown")
    if status != "Approved":
        raise CheckFailed(
            f"model package version {version} in {group} is {status}, not Approved: approve it in the model registry "
            f"(aws sagemaker update-model-package --model-package-arn {arn} --model-approval-status Approved) before promoting it"
        )
    return dict(described)


def owner_config(stack_dir: Path, stack: str) -> StackConfig:
    stack_file = read_stack(stack_dir, stack)
    try:
        return parse_stack_config(engine_config(plain(stack_file.config)), project=PROJECT, stack=stack)
    except ConfigError as exc:
        raise PromoteError(str(exc)) from None
