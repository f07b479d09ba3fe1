"""Promotion by identity: pin in a stack's config the model package version it must serve.

    python -m tools.promote --to dev --version N [--check]
    python -m tools.promote --to prod [--version N | --from dev] [--check] [--dev-outputs FILE]
    python -m tools.promote --verify prod [--dev-outputs FILE]
    python -m tools.promote --to dev --approved [--pr-body FILE]
    python -m tools.promote --to prod --soak [--evidence-out F] [--pr-body F]
    python -m tools.promote --check-evidence prod [--evidence F] [--dev-outputs F]
    python -m tools.promote --rollback prod [--version N] [--reason T] [--pr-body F]
    python -m tools.promote --restore dev|prod [--dev-outputs F] [--pr-body F]
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

`--restore STACK` (drift.yml) puts Git back on what STACK serves after AWS rolled back the release
of the pin or of HEAD's code: the pin (the endpoint's package) and containers/api (the code the
API's alias serves), one pull request (tools/promote/rollback.py, endpoint_rollback.py, api_code.py);
a release that has not run yet (prod waiting for its approval) restores nothing. Its --dev-outputs
are STACK's own outputs.

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

from tools.promote import approval, lineage, pin_log, pull_request, rollback, soak
from tools.promote.api_code import ApiNames
from tools.promote.artifact import check_artifact
from tools.promote.endpoint_rollback import ENVIRONMENT_TAG, EndpointNames
from tools.promote.registry import _outputs_from_backend as backend_outputs
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
from tools.repository import ROOT

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
    bytes_fact = check_artifact(described, session or _region_session(arn.split(":")[3]))
    return (
        f"verified: {stack} pins {arn}, the package dev serves ({served.source}), it is Approved, "
        f"and its model data is the registered bytes ({bytes_fact})"
    )


def _region_session(region: str) -> Any:
    import boto3

    return boto3.session.Session(region_name=region)


# ---- the closed loop (approval, soak, rollback, restore): wiring of the modules that do the work ----


def _session(session: Any, what: str) -> Any:
    import boto3

    session = session or boto3.session.Session()
    if session.get_credentials() is None:
        raise PromoteError(f"{what} needs AWS credentials (the workflow's OIDC role); none were found")
    return session


def promote_approved(stack_dir: Path, session: Any = None, body_out: Optional[Path] = None) -> str:
    """Pin in dev the newest Approved version above dev's pin; write the pull request body."""
    session = _session(session, "--approved")
    dev = owner_config(stack_dir, "dev")
    client = session.client("sagemaker", region_name=dev.region)
    current = read_stack(stack_dir, "dev").pinned_version()
    from components.training.pipeline import model_package_group_name

    arn = approval.newest_approved(client, model_package_group_name(dev.name_prefix), current)
    if arn is None:
        return f"dev: no Approved version newer than {current}; nothing to change"
    facts = lineage.package_facts(client, session.client("s3", region_name=dev.region), arn)
    done = promote(stack_dir, "dev", facts.version, None, True, session)
    if body_out is not None:
        body_out.write_text(pull_request.dev_pull_request(facts, current).body, encoding="utf-8")
    return done


def promote_soaked(
    stack_dir: Path,
    session: Any = None,
    dev_outputs: Optional[Path] = None,
    evidence_out: Optional[Path] = None,
    body_out: Optional[Path] = None,
    now: Any = None,
) -> str:
    """Measure dev's soak of the ARN it serves; pin it in prod only when every SLO was met."""
    session = _session(session, "--soak")
    prod = read_stack(stack_dir, "prod")
    served = dev_served(stack_dir, prod, dev_outputs)
    region = (served.arn or "::::").split(":")[3] or owner_config(stack_dir, "prod").region
    evidence_out = evidence_out or stack_dir / soak.EVIDENCE_FILE
    try:
        outputs = soak.load_outputs(dev_outputs) if dev_outputs else backend_outputs(stack_dir, registry_stack(prod))[0]
        evidence = soak.soak(stack_dir, served, outputs, soak.Clients.of(session, region), now)
    except soak.SoakFailed as failed:
        soak.write_outputs(failed.evidence, evidence_out, None, None)
        raise
    previous = prod.pinned_version()
    done = promote(stack_dir, "prod", served.version, None, True, session, dev_outputs)
    body = pull_request.prod_pull_request(evidence, served.version, previous).body
    soak.write_outputs(evidence, evidence_out, body, body_out)
    return done + f"\nevidence: every SLO met over {evidence.soak_hours:g} h; written to {evidence_out}"


def check_evidence(
    stack_dir: Path, session: Any = None, dev_outputs: Optional[Path] = None, evidence: Optional[Path] = None, now: Any = None
) -> str:
    """The deploy's gate (deploy.yml, before the production approval): prod's pin has fresh evidence."""
    prod = read_stack(stack_dir, "prod")
    pinned = prod.pinned_version()
    if pinned is None:
        return "prod pins no model package version: no evidence needed"
    served = dev_served(stack_dir, prod, dev_outputs)
    if served.arn is not None:
        arn = f"{served.arn.rsplit('/', 1)[0]}/{pinned}"
    else:
        arn = package_arn(owner_config(stack_dir, registry_stack(prod).rsplit("/", 1)[-1]), pinned, _session(session, "--check-evidence"))
    return soak.check_evidence(stack_dir, arn, lambda: pin_log.pin_history(stack_dir, "prod"), evidence, now)


def roll_back(
    stack_dir: Path,
    version: Optional[int],
    reason: str,
    session: Any = None,
    dev_outputs: Optional[Path] = None,
    evidence_out: Optional[Path] = None,
    body_out: Optional[Path] = None,
) -> str:
    """prod back to the version it pinned before: one command, one pull request, no soak."""
    prod = read_stack(stack_dir, "prod")
    served = dev_served(stack_dir, prod, dev_outputs)
    credentials = has_credentials(session)
    base = served.arn or package_arn(
        owner_config(stack_dir, registry_stack(prod).rsplit("/", 1)[-1]), served.version, _session(session, "--rollback")
    )
    check = (lambda arn: check_approved(arn, session)) if credentials else None
    evidence, pr, done = rollback.rollback(stack_dir, base, version, reason, check)
    soak.write_outputs(evidence, evidence_out or stack_dir / soak.EVIDENCE_FILE, pr.body, body_out)
    return done


def restore(stack_dir: Path, stack: str, session: Any = None, outputs: Optional[Path] = None, body_out: Optional[Path] = None) -> str:
    """Pin what the stack's endpoint serves and write back the API code its alias serves, when AWS
    rolled back the release of the pin or of HEAD's code."""
    session = _session(session, "--restore")
    config = owner_config(stack_dir, stack)
    values = soak.load_outputs(outputs) or {}
    from components.api import ALIAS_NAME, api_function_name, codedeploy_application_name, deployment_group_name
    from components.endpoint.model_endpoint import endpoint_name

    endpoint = EndpointNames(
        endpoint=values.get("endpointName") or endpoint_name(config.name_prefix),
        environment=config.tags[ENVIRONMENT_TAG],
        alarm_names=tuple(arn.rsplit(":", 1)[-1] for arn in (values.get("endpointAlarmArns") or {}).values()),
    )
    names = ApiNames(
        function=values.get("apiFunctionName") or api_function_name(config.name_prefix),
        alias=ALIAS_NAME,
        application=values.get("apiApplicationName") or codedeploy_application_name(config.name_prefix),
        deployment_group=values.get("apiDeploymentGroupName") or deployment_group_name(config.name_prefix),
        region=config.region,
    )
    api = rollback.ApiClients(
        session.client("lambda", region_name=config.region), session.client("codedeploy", region_name=config.region), names
    )
    pr, notes = rollback.restore(
        stack_dir,
        stack,
        session.client("sagemaker", region_name=config.region),
        session.client("cloudwatch", region_name=config.region),
        endpoint,
        api,
    )
    if pr is None:
        return "\n".join(notes)
    if body_out is not None:
        body_out.write_text(pr.body, encoding="utf-8")
    return "\n".join([*notes, pr.title])


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
    action.add_argument(
        "--check-evidence", choices=("prod",), help="the deploy's gate: prod's pin has fresh, passed soak (or rollback) evidence"
    )
    action.add_argument(
        "--rollback", choices=("prod",), help="emergency: pin the version prod pinned before (no soak; the deploy still needs approval)"
    )
    action.add_argument(
        "--restore",
        choices=STACKS,
        help="pin what the stack's endpoint serves and write back the API code its alias serves, after an alarm rolled a release back",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", type=_version_arg, help="the model package version to pin (prod: must be the version dev serves)")
    which.add_argument("--from", dest="source", choices=STACKS, help="prod: the version dev serves (the default)")
    parser.add_argument(
        "--check", action="store_true", help="require AWS credentials and an Approved package (done anyway when credentials exist)"
    )
    parser.add_argument(
        "--dev-outputs", type=Path, help="dev's outputs as `pulumi stack output --json` prints them (default: ask the backend)"
    )
    parser.add_argument("--approved", action="store_true", help="dev: pin the newest Approved version above dev's pin")
    parser.add_argument("--soak", action="store_true", help="prod: pin only after dev's soak of that exact ARN met every SLO")
    parser.add_argument("--evidence-out", type=Path, help="where the soak/rollback evidence JSON goes (default evidence/prod.json)")
    parser.add_argument("--evidence", type=Path, help="--check-evidence: the evidence JSON (default evidence/prod.json)")
    parser.add_argument("--pr-body", type=Path, help="write the pull request body (Markdown) here")
    parser.add_argument("--reason", default="", help="--rollback: why (goes into the pull request)")
    parser.add_argument("--stack-dir", type=Path, default=ROOT, help="folder holding Pulumi.<stack>.yaml (default: the repository)")
    args = parser.parse_args(argv)
    if args.verify and (args.version or args.source or args.check):
        parser.error("--verify takes no --version, --from or --check")
    if args.verify == "dev":
        parser.error("--verify dev: dev is the registry's own stack; verify the stack that serves it (prod)")
    if args.source == "dev" and args.to == "dev":
        parser.error("--from dev and --to dev name the same stack")
    if args.approved and (args.to != "dev" or args.version):
        parser.error("--approved goes with --to dev and no --version")
    if args.soak and args.to != "prod":
        parser.error("--soak goes with --to prod")
    try:
        if args.verify:
            print(verify(args.stack_dir, args.verify, dev_outputs=args.dev_outputs))
        elif args.check_evidence:
            print(check_evidence(args.stack_dir, dev_outputs=args.dev_outputs, evidence=args.evidence))
        elif args.rollback:
            print(roll_back(args.stack_dir, args.version, args.reason, None, args.dev_outputs, args.evidence_out, args.pr_body))
        elif args.restore:
            print(restore(args.stack_dir, args.restore, None, args.dev_outputs, args.pr_body))
        elif args.approved:
            print(promote_approved(args.stack_dir, None, args.pr_body))
        elif args.soak:
            if args.version is not None:
                parser.error("--soak takes the version dev serves; no --version")
            print(promote_soaked(args.stack_dir, None, args.dev_outputs, args.evidence_out, args.pr_body))
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
