"""Drive the real policy pack over the Analyzer protocol with small synthetic stacks.

A test declares a handful of resources the way the engine would pass them (camelCase inputs, the
outputs as state, property dependencies for the joins), then `analyze` runs one engine session
(ConfigureStack, Configure with the stack's real policy config, Analyze per resource,
AnalyzeStack) against the pack process the session started once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

from google.protobuf import empty_pb2, json_format

from tools.offline.analyzer import (
    CALL_TIMEOUT_SECONDS,
    AnalysisResult,
    PolicyPackProcess,
    StackResource,
    resolve_policy_config,
    run_analysis,
)
from tools.offline.records import ROOT

PACK_DIR = ROOT / "policies"
PROJECT = "sagemaker-mlops"
ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0d7e5f4a-1111-4222-8333-944455556666"
COMMON_TAGS = {"Project": PROJECT, "Environment": "prod", "Owner": "ml-platform", "CostCenter": "cc-ml-001", "ManagedBy": "pulumi"}
DIGEST = "sha256:" + "ab" * 32
MODEL_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlops-prod-model@{DIGEST}"
MONITOR_IMAGE = f"156813124566.dkr.ecr.{REGION}.amazonaws.com/sagemaker-model-monitor-analyzer"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker of a value not known until `pulumi up`


def policy_config(stack: str) -> dict[str, Any]:
    return json.loads((PACK_DIR / "config" / f"{stack}.json").read_text())


@dataclass
class Stack:
    """A synthetic stack: an aws provider with the common default tags, and the resources added."""

    name: str = "prod"
    resources: list[StackResource] = field(default_factory=list)
    tags: Mapping[str, str] = field(default_factory=lambda: dict(COMMON_TAGS))
    region: str = REGION  # the aws provider's

    def __post_init__(self) -> None:
        inputs = {"region": self.region, "defaultTags": json.dumps({"tags": dict(self.tags)})}
        self.provider_urn = self.urn("pulumi:providers:aws", "aws")
        self.resources.append(self._resource("pulumi:providers:aws", "aws", inputs, inputs, {}, custom=True, provider=""))

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:{self.name}::{PROJECT}::{type_}::{name}"

    def _resource(self, type_, name, inputs, state, deps, *, custom, provider) -> StackResource:
        return StackResource(
            urn=self.urn(type_, name),
            type=type_,
            name=name,
            parent="",
            inputs=inputs,
            state=state,
            options={"provider": provider} if provider else {},
            provider=provider,
            custom=custom,
            dependencies=sorted({u for urns in deps.values() for u in urns}),
            property_dependencies={k: list(v) for k, v in deps.items()},
        )

    def add(
        self,
        type_: str,
        name: str,
        inputs: Optional[Mapping[str, Any]] = None,
        *,
        outputs: Optional[Mapping[str, Any]] = None,
        deps: Optional[Mapping[str, list[str]]] = None,
        tagged: bool = True,
    ) -> str:
        """Adds a resource; `outputs` are added to the inputs to form its state. Returns its URN."""
        inputs = dict(inputs or {})
        state = {**inputs, **dict(outputs or {})}
        provider = f"{self.provider_urn}::0b1c2d3e" if tagged else ""
        self.resources.append(self._resource(type_, name, inputs, state, dict(deps or {}), custom=True, provider=provider))
        return self.urn(type_, name)


ConfigArg = Union[str, Mapping[str, Any], None]


def analyze(pack: PolicyPackProcess, stack: Stack, config: ConfigArg = "stack") -> AnalysisResult:
    """One engine session over the synthetic stack; config "stack" = policies/config/<stack>.json."""
    if config == "stack":
        config = policy_config(stack.name)
    return run_analysis(pack, PROJECT, stack.name, {"aws:region": REGION}, stack.resources, config if isinstance(config, Mapping) else None)


# Which policies the session's tests have seen pass and fail (checked by test_pack.py, which runs last).
ASSERTED: dict[str, set[str]] = {"passes": set(), "fails": set()}
# The test modules whose tests ran in this process: with pytest-xdist another worker runs the rest,
# and what they assert there is not in ASSERTED here.
RAN_HERE: set[str] = set()
# A child pytest session started with this variable writes ASSERTED to the file it names (conftest.py).
ASSERTED_OUT = "POLICY_TESTKIT_ASSERTED_OUT"


def findings(result: AnalysisResult, policy: str) -> list:
    return [v for v in result.violations if v.policy == policy]


def assert_passes(result: AnalysisResult, policy: str) -> None:
    assert policy in {p.name for p in result.policies}, f"no policy {policy}"
    found = findings(result, policy)
    assert not found, f"{policy} reported:\n" + "\n".join(v.message for v in found)
    ASSERTED["passes"].add(policy)


def assert_fails(result: AnalysisResult, policy: str, urn: Optional[str], *fragments: str, level: str = "mandatory") -> str:
    """The policy reported a violation on `urn` ('' for the stack) at `level`, whose message has every fragment."""
    found = [v for v in findings(result, policy) if urn is None or v.urn == urn]
    assert found, f"{policy} reported nothing on {urn}; all findings: {[(v.policy, v.urn) for v in result.violations]}"
    message = "\n".join(v.message for v in found)
    assert all(v.level == level for v in found), [(v.level, v.message) for v in found]
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    ASSERTED["fails"].add(policy)
    return message


@dataclass(frozen=True)
class Case:
    """One row of a policy's edge table: a resource and what the policy must say about it."""

    policy: str
    id: str
    type: str
    inputs: Mapping[str, Any]
    denied: Optional[str]
    """A fragment of the finding, or None when the policy must not report the resource."""


def analyze_cases(pack: PolicyPackProcess, cases: list[Case], stack_name: str = "prod") -> tuple[AnalysisResult, dict[str, str]]:
    """One engine session over every case of a table: (result, case id -> URN)."""
    stack = Stack(stack_name)
    urns = {case.id: stack.add(case.type, case.id, dict(case.inputs)) for case in cases}
    return analyze(pack, stack), urns


def assert_case(result: AnalysisResult, urns: Mapping[str, str], case: Case, *fragments: str) -> Optional[str]:
    """The case's verdict: no finding of its policy on it, or one that has `denied` and `fragments`."""
    if case.denied is None:
        mine = [v for v in findings(result, case.policy) if v.urn == urns[case.id]]
        assert not mine, "\n".join(v.message for v in mine)
        return None
    return assert_fails(result, case.policy, urns[case.id], case.denied, *fragments)


def declared_defaults(pack: PolicyPackProcess, *policies: str) -> dict[str, dict[str, Any]]:
    """Each policy's properties when a stack's policy config sets nothing: its config schema's
    defaults, as the pack declares them (GetAnalyzerInfo) and the engine applies them."""
    resolved = resolve_policy_config(pack.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS), None)
    return {name: json_format.MessageToDict(resolved[name].properties) for name in policies}


def not_applicable(result: AnalysisResult, policy: str) -> list[str]:
    return [n.reason for n in result.not_applicable if n.policy == policy]


def policy_document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def statement(actions: Any, resources: Any, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": actions, "Resource": resources, **extra}


# ---- S3 -------------------------------------------------------------------------------------------


def tls_deny(name: str) -> dict:
    return statement(
        ["s3:*"],
        [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        effect="Deny",
        Principal={"AWS": "*"},
        Condition={"Bool": {"aws:SecureTransport": "false"}},
    )


def bucket(
    stack: Stack,
    name: str,
    *,
    sse: dict | None = None,
    public_access: dict | None = None,
    statements: list | None = None,
    versioning: str | None = "Enabled",
    join_by_dependency: bool = True,
    force_destroy: bool = False,
    inline: Mapping[str, Any] | None = None,
    named: bool = True,
    policy_bucket: str | None = None,
) -> str:
    """A bucket and the side-by-side resources SecureBucket declares, each overridable; `inline`:
    the bucket's own (deprecated) settings; `named`: its name is known (given or auto-named);
    `policy_bucket`: what its BucketPolicy's `bucket` holds (its name unless told)."""
    inputs = {**(inline or {}), **({"forceDestroy": True} if force_destroy else {})}
    outputs = {"bucket": name, "arn": f"arn:aws:s3:::{name}"} if named else {}
    urn = stack.add("aws:s3/bucket:Bucket", name, inputs, outputs=outputs)
    deps = {"bucket": [urn]} if join_by_dependency else {"bucket": []}
    sse = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN} if sse is None else sse
    if sse:
        stack.add(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{name}-encryption",
            {"bucket": name, "rules": [{"applyServerSideEncryptionByDefault": sse}]},
            deps=deps,
        )
    flags = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
    public_access = flags if public_access is None else public_access
    if public_access:
        stack.add(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-public-access", {"bucket": name, **public_access}, deps=deps
        )
    statements = [tls_deny(name)] if statements is None else statements
    if statements:
        stack.add(
            "aws:s3/bucketPolicy:BucketPolicy",
            f"{name}-policy",
            {"bucket": name if policy_bucket is None else policy_bucket, "policy": policy_document(*statements)},
            deps=deps,
        )
    if versioning:
        stack.add(
            "aws:s3/bucketVersioning:BucketVersioning",
            f"{name}-versioning",
            {"bucket": name, "versioningConfiguration": {"status": versioning}},
            deps=deps,
        )
    return urn
