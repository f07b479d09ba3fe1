"""S3 guardrails (stack policies joining each bucket to its side-by-side settings), both ways."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import pytest
from policy_testkit import (
    KEY_ARN,
    UNKNOWN,
    Case,
    Stack,
    analyze,
    analyze_cases,
    assert_case,
    assert_fails,
    assert_passes,
    bucket,
    findings,
    policy_document,
    statement,
    tls_deny,
)

S3_POLICIES = ("s3-bucket-encryption", "s3-public-access-block", "s3-tls-only", "s3-versioning")
ELB_US_EAST_1 = "arn:aws:iam::127311923021:root"


def test_a_secure_bucket_passes_every_s3_guardrail(pack):
    stack = Stack()
    bucket(stack, "data")
    bucket(stack, "artifacts", join_by_dependency=False)  # joined by the bucket name instead
    stack.add("aws:s3/bucketAcl:BucketAcl", "private", {"bucket": "data", "acl": "private"})
    result = analyze(pack, stack)
    for policy in (*S3_POLICIES, "s3-no-public-acl"):
        assert_passes(result, policy)


def test_buckets_without_the_project_key_fail_encryption(pack):
    stack = Stack()
    missing = bucket(stack, "no-sse", sse={})
    sse_s3 = bucket(stack, "sse-s3", sse={"sseAlgorithm": "AES256"})
    aws_key = bucket(stack, "aws-key", sse={"sseAlgorithm": "aws:kms"})
    result = analyze(pack, stack)
    assert_fails(
        result,
        "s3-bucket-encryption",
        missing,
        "aws:s3/bucket:Bucket 'no-sse' has no server-side encryption configuration",
        "kms_master_key_id",
    )
    assert_fails(result, "s3-bucket-encryption", sse_s3, "is encrypted with AES256, not with the project's KMS key", "ELB log delivery")
    assert_fails(result, "s3-bucket-encryption", aws_key, "AWS-managed key")


def test_an_elb_access_log_bucket_may_use_sse_s3_but_nothing_else_may_hide_behind_it(pack):
    logs_only = [
        tls_deny("alb-logs"),
        statement(["s3:PutObject"], ["arn:aws:s3:::alb-logs/alb/AWSLogs/123456789012/*"], Principal={"AWS": ELB_US_EAST_1}),
    ]
    service_principal = [
        statement(
            "s3:PutObject",
            "arn:aws:s3:::alb-logs2/AWSLogs/123456789012/*",
            Principal={"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        )
    ]
    stack = Stack()
    bucket(stack, "alb-logs", sse={"sseAlgorithm": "AES256"}, statements=logs_only, versioning=None)
    bucket(stack, "alb-logs2", sse={"sseAlgorithm": "AES256"}, statements=[tls_deny("alb-logs2"), *service_principal])
    result = analyze(pack, stack)
    assert_passes(result, "s3-bucket-encryption")
    assert_passes(result, "s3-versioning")  # append-only logs that the lifecycle expires

    stack = Stack()
    reader = statement(["s3:GetObject"], ["arn:aws:s3:::alb-logs/*"], Principal={"AWS": "arn:aws:iam::123456789012:role/analyst"})
    urn = bucket(stack, "alb-logs", sse={"sseAlgorithm": "AES256"}, statements=[*logs_only, reader], versioning=None)
    result = analyze(pack, stack)
    assert_fails(result, "s3-bucket-encryption", urn, "AES256")
    assert_fails(result, "s3-versioning", urn, "is not versioned")


def test_the_elb_log_exemption_is_only_for_the_regions_elb_account_writing_log_keys_of_that_bucket(pack):
    """Each bucket widens one part of the grant; each must lose the SSE-S3 and no-versioning exemption."""
    log_keys = "arn:aws:s3:::{0}/alb/AWSLogs/123456789012/*"
    widened = {
        "other-account": statement("s3:PutObject", log_keys.format("other-account"), Principal={"AWS": "arn:aws:iam::111122223333:root"}),
        # eu-west-1's ELB account, but the stack's provider is in us-east-1.
        "other-region": statement("s3:PutObject", log_keys.format("other-region"), Principal={"AWS": "arn:aws:iam::156460612806:root"}),
        "whole-bucket": statement("s3:PutObject", "arn:aws:s3:::whole-bucket/*", Principal={"AWS": ELB_US_EAST_1}),
        "other-bucket": statement("s3:PutObject", log_keys.format("data"), Principal={"AWS": ELB_US_EAST_1}),
        "more-actions": statement(["s3:PutObject", "s3:GetObject"], log_keys.format("more-actions"), Principal={"AWS": ELB_US_EAST_1}),
        "not-resource": statement(
            "s3:PutObject", log_keys.format("not-resource"), Principal={"AWS": ELB_US_EAST_1}, NotResource="arn:aws:s3:::x"
        ),
        "not-action": statement("s3:PutObject", log_keys.format("not-action"), Principal={"AWS": ELB_US_EAST_1}, NotAction="s3:GetObject"),
        "not-principal": statement(
            "s3:PutObject", log_keys.format("not-principal"), Principal={"AWS": ELB_US_EAST_1}, NotPrincipal={"AWS": "x"}
        ),
        "no-resource": {"Effect": "Allow", "Action": "s3:PutObject", "Principal": {"AWS": ELB_US_EAST_1}},
    }
    stack = Stack()
    urns = {
        name: bucket(stack, name, sse={"sseAlgorithm": "AES256"}, statements=[tls_deny(name), grant], versioning=None)
        for name, grant in widened.items()
    }
    result = analyze(pack, stack)
    for name, urn in urns.items():
        assert_fails(result, "s3-bucket-encryption", urn, f"'{name}' is encrypted with AES256")
        assert_fails(result, "s3-versioning", urn, "is not versioned")


def test_public_access_must_be_blocked_with_all_four_flags(pack):
    stack = Stack()
    none = bucket(stack, "open", public_access={})
    partial = bucket(
        stack,
        "half-open",
        public_access={"blockPublicAcls": True, "blockPublicPolicy": False, "ignorePublicAcls": True, "restrictPublicBuckets": True},
    )
    result = analyze(pack, stack)
    assert_fails(result, "s3-public-access-block", none, "'open' has no public access block", "restrict_public_buckets all True")
    assert_fails(result, "s3-public-access-block", partial, "without blockPublicPolicy")


def test_an_account_wide_public_access_block_covers_every_bucket(pack):
    stack = Stack()
    bucket(stack, "open", public_access={})
    stack.add(
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
        "account",
        {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
    )
    assert_passes(analyze(pack, stack), "s3-public-access-block")


def test_buckets_must_deny_plain_http(pack):
    stack = Stack()
    no_policy = bucket(stack, "no-policy", statements=[])
    allow_only = bucket(
        stack,
        "allow-only",
        statements=[statement(["s3:GetObject"], ["arn:aws:s3:::allow-only/*"], Principal={"AWS": "arn:aws:iam::123456789012:root"})],
    )
    result = analyze(pack, stack)
    for urn in (no_policy, allow_only):
        assert_fails(result, "s3-tls-only", urn, "accepts requests over plain HTTP", "aws:SecureTransport is false")


def test_data_buckets_must_be_versioned(pack):
    stack = Stack()
    unversioned = bucket(stack, "data", versioning=None)
    suspended = bucket(stack, "artifacts", versioning="Suspended")
    result = analyze(pack, stack)
    assert_fails(result, "s3-versioning", unversioned, "'data' is not versioned", "status 'Enabled'")
    assert_fails(result, "s3-versioning", suspended, "'artifacts' is not versioned")


def test_s3_guardrails_are_mandatory_in_dev_too(pack):
    stack = Stack("dev")
    urn = bucket(stack, "data", sse={}, public_access={}, statements=[], versioning=None)
    result = analyze(pack, stack)
    for policy in S3_POLICIES:
        assert_fails(result, policy, urn, level="mandatory")


# ---- each policy at its edges: one engine session over a table of buckets ------------------------


@dataclass(frozen=True)
class BucketCase:
    """A bucket (`bucket()`'s keyword arguments) and what `policy` must say about it."""

    policy: str
    id: str
    denied: Optional[str]  # a fragment of the finding, or None: no finding on the bucket
    settings: Mapping[str, Any] = field(default_factory=dict)


def _kms(key: Optional[str] = KEY_ARN, algorithm: str = "aws:kms") -> dict[str, str]:
    return {"sseAlgorithm": algorithm, **({"kmsMasterKeyId": key} if key else {})}


def _inline_sse(*defaults: dict[str, str], key: str = "rule") -> dict[str, Any]:
    rules = [{"applyServerSideEncryptionByDefault": d} for d in defaults]
    return {"serverSideEncryptionConfiguration": {key: rules[0] if key == "rule" else rules}}


def _elb_logs(name: str, keys_of: Optional[str] = None) -> list[dict[str, Any]]:
    """The TLS deny and ELB's grant on the log keys of `keys_of` (the bucket itself unless told)."""
    keys = f"arn:aws:s3:::{keys_of or name}/alb/AWSLogs/123456789012/*"
    return [tls_deny(name), statement("s3:PutObject", keys, Principal={"AWS": ELB_US_EAST_1})]


def _deny_http(name: str, **overrides: Any) -> dict[str, Any]:
    return {**tls_deny(name), **overrides}


def _public_access(**off: Any) -> dict[str, Any]:
    return {**dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True), **off}


ENCRYPTION, PUBLIC, TLS, VERSIONING = S3_POLICIES
AES256 = {"sseAlgorithm": "AES256"}
BUCKET_CASES = [
    # Encryption: side-by-side rules, the bucket's own inline rules (one `rule` or a `rules` list)
    BucketCase(ENCRYPTION, "dsse-with-key", None, {"sse": _kms(algorithm="aws:kms:dsse")}),
    BucketCase(ENCRYPTION, "aws-managed-alias", "AWS-managed key", {"sse": _kms("alias/aws/s3")}),
    BucketCase(
        ENCRYPTION,
        "rule-without-default",
        "has no server-side encryption configuration",
        {"sse": {}, "inline": {"serverSideEncryptionConfiguration": {"rule": {"bucketKeyEnabled": True}}}},
    ),
    BucketCase(ENCRYPTION, "inline-rule", None, {"sse": {}, "inline": _inline_sse(_kms())}),
    BucketCase(ENCRYPTION, "inline-rules", None, {"sse": {}, "inline": _inline_sse(_kms(), key="rules")}),
    BucketCase(ENCRYPTION, "inline-aes256", "is encrypted with AES256", {"sse": {}, "inline": _inline_sse(AES256)}),
    BucketCase(
        ENCRYPTION, "inline-kms-and-dsse", None, {"sse": {}, "inline": _inline_sse(_kms(), _kms(algorithm="aws:kms:dsse"), key="rules")}
    ),
    BucketCase(
        ENCRYPTION,
        "inline-kms-and-aes256",
        "is encrypted with AES256, aws:kms",
        {"sse": {}, "inline": _inline_sse(_kms(), AES256, key="rules")},
    ),
    # The ELB log exemption reads the bucket's name from its policy's `bucket`, or from the bucket
    # while that id is unknown (a first preview); a grant on another bucket's keys is no exemption.
    BucketCase(
        ENCRYPTION, "elb-logs-id-unknown", None, {"sse": AES256, "statements": _elb_logs("elb-logs-id-unknown"), "policy_bucket": UNKNOWN}
    ),
    BucketCase(
        ENCRYPTION,
        "elb-logs-id-unknown-other-keys",
        "is encrypted with AES256",
        {"sse": AES256, "statements": _elb_logs("x", keys_of="data"), "policy_bucket": UNKNOWN},
    ),
    BucketCase(
        ENCRYPTION,
        "elb-logs-other-buckets-keys",
        "is encrypted with AES256",
        {"sse": AES256, "statements": _elb_logs("x", keys_of="data"), "named": False, "policy_bucket": "elb-logs-other-buckets-keys"},
    ),
    BucketCase(
        ENCRYPTION,
        "elb-logs-unnamed",
        None,
        {"sse": AES256, "statements": _elb_logs("x", keys_of="elb-logs-unnamed"), "named": False, "policy_bucket": "elb-logs-unnamed"},
    ),
    # Public access: flags as booleans or text, several blocks of which one is complete
    BucketCase(PUBLIC, "flags-as-text", None, {"public_access": dict.fromkeys(_public_access(), "true")}),
    BucketCase(PUBLIC, "flag-false-as-text", "without ignorePublicAcls", {"public_access": _public_access(ignorePublicAcls="false")}),
    BucketCase(
        PUBLIC,
        "two-flags-off",
        "without blockPublicAcls, restrictPublicBuckets",
        {"public_access": _public_access(blockPublicAcls=False, restrictPublicBuckets=None)},
    ),
    # TLS: the Deny must cover every S3 action, for every principal, when SecureTransport is false
    BucketCase(TLS, "deny-star-action", None, {"statements": [_deny_http("deny-star-action", Action="*")]}),
    BucketCase(TLS, "deny-star-principal", None, {"statements": [_deny_http("deny-star-principal", Principal="*")]}),
    BucketCase(
        TLS,
        "false-in-a-list-any-case",
        None,
        {"statements": [_deny_http("false-in-a-list-any-case", Condition={"Bool": {"aws:SecureTransport": ["False"]}})]},
    ),
    BucketCase(
        TLS, "deny-get-only", "accepts requests over plain HTTP", {"statements": [_deny_http("deny-get-only", Action=["s3:GetObject"])]}
    ),
    BucketCase(
        TLS,
        "deny-one-account",
        "accepts requests over plain HTTP",
        {"statements": [_deny_http("deny-one-account", Principal={"AWS": "arn:aws:iam::123456789012:root"})]},
    ),
    BucketCase(
        TLS,
        "deny-when-secure",
        "accepts requests over plain HTTP",
        {"statements": [_deny_http("deny-when-secure", Condition={"Bool": {"aws:SecureTransport": "true"}})]},
    ),
    BucketCase(
        TLS,
        "deny-without-condition-key",
        "accepts requests over plain HTTP",
        {"statements": [_deny_http("deny-without-condition-key", Condition={"Bool": {"aws:ViaAWSService": "false"}})]},
    ),
    BucketCase(
        TLS,
        "deny-condition-not-a-mapping",
        "accepts requests over plain HTTP",
        {"statements": [_deny_http("deny-condition-not-a-mapping", Condition="aws:SecureTransport")]},
    ),
    BucketCase(TLS, "allow-over-http", "accepts requests over plain HTTP", {"statements": [_deny_http("allow-over-http", Effect="Allow")]}),
    BucketCase(TLS, "inline-policy", None, {"statements": [], "inline": {"policy": policy_document(tls_deny("inline-policy"))}}),
    # Versioning: a side-by-side configuration, or the bucket's own inline block
    BucketCase(VERSIONING, "inline-enabled", None, {"versioning": None, "inline": {"versioning": {"enabled": True}}}),
    BucketCase(VERSIONING, "inline-enabled-as-text", None, {"versioning": None, "inline": {"versioning": {"enabled": "true"}}}),
    BucketCase(VERSIONING, "inline-disabled", "is not versioned", {"versioning": None, "inline": {"versioning": {"enabled": False}}}),
    BucketCase(VERSIONING, "status-in-lower-case", "is not versioned", {"versioning": "enabled"}),
]


@pytest.fixture(scope="module")
def bucket_table(pack):
    stack = Stack()
    urns = {case.id: bucket(stack, case.id, **case.settings) for case in BUCKET_CASES}
    return analyze(pack, stack), urns


@pytest.mark.parametrize("case", BUCKET_CASES, ids=[c.id for c in BUCKET_CASES])
def test_each_bucket_is_judged_with_its_side_by_side_and_inline_settings(bucket_table, case):
    result, urns = bucket_table
    assert_case(result, urns, Case(case.policy, case.id, "aws:s3/bucket:Bucket", {}, case.denied))


ACL = "aws:s3/bucketAcl:BucketAcl"
PUBLIC_GROUP = "http://acs.amazonaws.com/groups/global/"


def _grants(*grants: tuple[str, str]) -> dict[str, Any]:
    """An ACL of (grantee URI or canonical id, permission) grants."""
    return {
        "bucket": "b",
        "accessControlPolicy": {
            "grants": [
                {"grantee": {"type": "Group", "uri": g} if g.startswith("http") else {"type": "CanonicalUser", "id": g}, "permission": p}
                for g, p in grants
            ],
            "owner": {"id": "abc"},
        },
    }


ACL_CASES = [
    Case("s3-no-public-acl", "private", ACL, {"bucket": "b", "acl": "private"}, None),
    Case("s3-no-public-acl", "log-delivery-write", ACL, {"bucket": "b", "acl": "log-delivery-write"}, None),
    Case("s3-no-public-acl", "public-read", ACL, {"bucket": "b", "acl": "public-read"}, "canned ACL public-read"),
    Case("s3-no-public-acl", "public-read-write", ACL, {"bucket": "b", "acl": "public-read-write"}, "canned ACL public-read-write"),
    Case("s3-no-public-acl", "authenticated-read", ACL, {"bucket": "b", "acl": "authenticated-read"}, "canned ACL authenticated-read"),
    Case("s3-no-public-acl", "owner-grant", ACL, _grants(("abc", "FULL_CONTROL")), None),
    Case("s3-no-public-acl", "log-delivery-group", ACL, _grants(("http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE")), None),
    Case("s3-no-public-acl", "all-users", ACL, _grants((f"{PUBLIC_GROUP}AllUsers", "READ")), "READ to AllUsers"),
    Case(
        "s3-no-public-acl",
        "authenticated-users",
        ACL,
        _grants(("abc", "FULL_CONTROL"), (f"{PUBLIC_GROUP}AuthenticatedUsers", "WRITE")),
        "WRITE to AuthenticatedUsers",
    ),
]


@pytest.fixture(scope="module")
def acl_result(pack):
    return analyze_cases(pack, ACL_CASES)


@pytest.mark.parametrize("case", ACL_CASES, ids=[c.id for c in ACL_CASES])
def test_an_acl_is_refused_when_it_grants_to_everyone_or_every_account(acl_result, case):
    assert_case(*acl_result, case)


def test_each_finding_names_the_bucket_the_problem_and_the_fix(pack):
    """Every message of the S3 policies whole, as the preview prints it: the policy's description
    (the engine puts it first), the bucket, what is wrong, the fix."""
    stack = Stack()
    missing = bucket(stack, "bare", sse={}, public_access={}, statements=[], versioning=None)
    partial = bucket(stack, "half", sse={"sseAlgorithm": "aws:kms"}, public_access=_public_access(blockPublicPolicy=False))
    aes = bucket(stack, "aes", sse=AES256)
    acl = stack.add(ACL, "acl", {"bucket": "b", "acl": "public-read", **_grants((f"{PUBLIC_GROUP}AllUsers", "READ"))})
    result = analyze(pack, stack)
    sse_fix = (
        "Declare an aws.s3.BucketServerSideEncryptionConfiguration for it with sse_algorithm='aws:kms' and "
        "kms_master_key_id=<the project KMS key ARN> (components.shared.secure_bucket.SecureBucket does this)."
    )
    block_fix = (
        "Declare an aws.s3.BucketPublicAccessBlock for it with block_public_acls, block_public_policy, "
        "ignore_public_acls and restrict_public_buckets all True."
    )
    encryption = "Every S3 bucket is encrypted with SSE-KMS and the project's customer-managed key (ELB access-log buckets: SSE-S3).\n"
    assert (
        assert_fails(result, ENCRYPTION, missing)
        == f"{encryption}aws:s3/bucket:Bucket 'bare' has no server-side encryption configuration. {sse_fix}"
    )
    assert assert_fails(result, ENCRYPTION, partial) == (
        f"{encryption}aws:s3/bucket:Bucket 'half' is encrypted with SSE-KMS but with the AWS-managed key (no kms_master_key_id, or "
        "alias/aws/s3): the project cannot control or audit who decrypts it. Set kms_master_key_id to the project KMS key ARN."
    )
    assert assert_fails(result, ENCRYPTION, aes) == (
        f"{encryption}aws:s3/bucket:Bucket 'aes' is encrypted with AES256, not with the project's KMS key. {sse_fix} "
        "Only an access-log bucket whose policy lets nothing but the region's ELB log delivery write (s3:PutObject on "
        "<prefix>/AWSLogs/<account>/*) may use AES256, because Elastic Load Balancing cannot write to SSE-KMS buckets."
    )
    public = "Every S3 bucket has a public access block with all four flags on.\n"
    assert assert_fails(result, PUBLIC, missing) == f"{public}aws:s3/bucket:Bucket 'bare' has no public access block. {block_fix}"
    assert assert_fails(result, PUBLIC, partial) == (
        f"{public}aws:s3/bucket:Bucket 'half' has a public access block without blockPublicPolicy. {block_fix}"
    )
    assert assert_fails(result, TLS, missing) == (
        "Every S3 bucket policy denies requests that do not use TLS.\n"
        "aws:s3/bucket:Bucket 'bare' accepts requests over plain HTTP: its bucket policy has no statement denying "
        "s3:* to every principal when aws:SecureTransport is false. Add that Deny statement (on the bucket ARN "
        "and <bucket ARN>/*) to its aws.s3.BucketPolicy."
    )
    assert assert_fails(result, VERSIONING, missing) == (
        "Data and artifact buckets (every bucket but an ELB access-log bucket) are versioned.\n"
        "aws:s3/bucket:Bucket 'bare' is not versioned, so an overwrite or delete of data or model artifacts cannot be undone. "
        "Declare an aws.s3.BucketVersioning for it with status 'Enabled' (and a lifecycle rule that expires noncurrent versions)."
    )
    assert assert_fails(result, "s3-no-public-acl", acl) == (
        "No bucket ACL grants access to everyone or to every AWS account.\n"
        f"{ACL} 'acl' makes the bucket public (canned ACL public-read, READ to AllUsers). Remove the ACL: buckets use "
        "object_ownership='BucketOwnerEnforced' (ACLs disabled) and grant access with IAM and bucket policies."
    )
    for policy in S3_POLICIES:  # one finding per bucket and policy: the messages above are whole
        assert len([v for v in findings(result, policy) if v.urn == missing]) == 1


def test_an_account_wide_block_with_a_flag_off_covers_nothing(pack):
    stack = Stack()
    urn = bucket(stack, "open", public_access={})
    stack.add("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", _public_access(restrictPublicBuckets=False))
    assert_fails(analyze(pack, stack), PUBLIC, urn, "has no public access block")


@pytest.mark.parametrize(
    ("region", "partition", "elb_account"), [("us-gov-west-1", "aws-us-gov", "048591011584"), ("cn-north-1", "aws-cn", "638102146993")]
)
def test_the_elb_log_exemption_holds_in_the_other_partitions(pack, region, partition, elb_account):
    stack = Stack(region=region)
    grant = statement(
        "s3:PutObject",
        f"arn:{partition}:s3:::logs/alb/AWSLogs/123456789012/*",
        Principal={"AWS": f"arn:{partition}:iam::{elb_account}:root"},
    )
    bucket(stack, "logs", sse=AES256, statements=[tls_deny("logs"), grant], versioning=None)
    result = analyze(pack, stack)
    assert_passes(result, ENCRYPTION)
    assert_passes(result, VERSIONING)
