"""S3: encryption with the project key, public access blocked, TLS-only access, versioning.

pulumi-aws 7 declares a bucket's settings as separate resources that name the bucket in their
`bucket` property (BucketServerSideEncryptionConfiguration, BucketPublicAccessBlock, BucketPolicy,
BucketVersioning), so these are stack policies that join them to each bucket. The deprecated inline
settings of the bucket itself are read only when no side-by-side resource exists.

One principled exception: Elastic Load Balancing cannot write access logs to an SSE-KMS bucket, so
a bucket whose policy lets *only* the ELB log-delivery principal put objects (an access-log bucket)
may use SSE-S3 (AES256); its objects are append-only logs that its lifecycle expires, so it is not
required to be versioned either. The exemption is tight: every Allow statement must grant exactly
s3:PutObject, to the stack region's Elastic Load Balancing account (or the log-delivery service
principal of newer regions) only, on object keys under `<prefix>/AWSLogs/<account>/` of that very
bucket only. Any other action, principal or resource makes it an ordinary bucket again.

Bucket ACLs: a BucketAcl that grants to everyone or to every AWS account (a canned public ACL or a
grant to the AllUsers/AuthenticatedUsers groups) is refused whatever the public access block
says, because a later change to the block would publish the bucket at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable, Optional

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
    StackValidationPolicy,
)

from guardrails.aws_accounts import ELB_LOG_DELIVERY_ACCOUNTS, ELB_LOG_DELIVERY_SERVICE
from guardrails.common import (
    StackView,
    as_list,
    get_path,
    is_allow,
    is_customer_managed_key,
    is_unknown,
    label_of,
    peek,
    principals,
    resource_policy,
    statements,
    truthy,
)

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
ACCOUNT_PUBLIC_ACCESS_BLOCK = ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
# The bucket's identifying outputs a side-by-side resource's `bucket` may hold.
BUCKET_KEYS = ("bucket", "id")
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
# ELB writes `<bucket>/<prefix>/AWSLogs/<account>/...`; the grant may name nothing wider.
_ELB_LOG_KEYS = re.compile(r"^arn:aws(?:-[a-z-]+)?:s3:::(?P<bucket>[^/]+)/(?:.+/)?AWSLogs/\d{12}/\*$")


def _elb_principals(accounts: list[str]) -> set[str]:
    forms = {ELB_LOG_DELIVERY_SERVICE}
    for account in accounts:
        forms |= {account, f"arn:aws:iam::{account}:root", f"arn:aws-us-gov:iam::{account}:root", f"arn:aws-cn:iam::{account}:root"}
    return forms


def _stack_regions(view: StackView) -> set[str]:
    return {str(p.props.get("region")) for p in view.of_type("pulumi:providers:aws") if isinstance(p.props.get("region"), str)}


def _elb_accounts(view: StackView) -> list[str]:
    """The ELB log-delivery accounts of the stack's regions (all of them when no provider names one)."""
    regions = _stack_regions(view)
    known = [ELB_LOG_DELIVERY_ACCOUNTS[r] for r in regions if r in ELB_LOG_DELIVERY_ACCOUNTS]
    return known if regions else list(ELB_LOG_DELIVERY_ACCOUNTS.values())


def _side(view: StackView, bucket: Any, types: tuple[str, ...]) -> list[Any]:
    return view.referencing(bucket, types, "bucket", *BUCKET_KEYS)


def bucket_policy_statements(view: StackView, bucket: Any) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    policies = _side(view, bucket, BUCKET_POLICY)
    for policy in policies:
        found.extend(statements(policy.props.get("policy")))
    if not policies:
        found.extend(statements(bucket.props.get("policy")))
    return found


def bucket_name(view: StackView, bucket: Any) -> Optional[str]:
    for policy in _side(view, bucket, BUCKET_POLICY):
        value = peek(policy.props, "bucket")  # the bucket's id: unknown before it exists
        if isinstance(value, str) and not is_unknown(value):
            return value
    name = bucket.props.get("bucket")  # its name: known before it exists (given or auto-named)
    return name if isinstance(name, str) else None


def is_elb_log_bucket(view: StackView, bucket: Any) -> bool:
    """Every Allow statement of the bucket's policy is `s3:PutObject` for the region's ELB log-delivery
    principal on the bucket's `.../AWSLogs/<account>/*` keys, and nothing else."""
    allows = [s for s in bucket_policy_statements(view, bucket) if is_allow(s)]
    if not allows:
        return False
    allowed_principals = _elb_principals(_elb_accounts(view))
    name = bucket_name(view, bucket)
    for statement in allows:
        actions = as_list(statement.get("Action"))
        names = principals(statement)
        resources = as_list(statement.get("Resource"))
        if any(statement.get(k) is not None for k in ("NotAction", "NotPrincipal", "NotResource")):
            return False
        if not actions or any(str(a) != "s3:PutObject" for a in actions):
            return False
        if not names or any(n not in allowed_principals for n in names):
            return False
        if not resources:
            return False
        for resource in resources:
            match = _ELB_LOG_KEYS.match(str(resource))
            if not match or (name is not None and match["bucket"] != name):
                return False
    return True


def _default_rules(view: StackView, bucket: Any) -> tuple[bool, list[Mapping[str, Any]]]:
    """(found a configuration, its apply-by-default blocks)."""
    configs = _side(view, bucket, ENCRYPTION)
    if configs:
        rules = [r for c in configs for r in as_list(c.props.get("rules"))]
    else:
        inline = bucket.props.get("serverSideEncryptionConfiguration")
        if not inline:
            return False, []
        rules = as_list(get_path(inline, "rule")) or as_list(get_path(inline, "rules"))
    blocks = [get_path(r, "applyServerSideEncryptionByDefault") for r in rules if isinstance(r, Mapping)]
    return True, [b for b in blocks if isinstance(b, Mapping)]


def _encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    for bucket in view.of_type(*BUCKETS):
        label = label_of(bucket)
        found, blocks = _default_rules(view, bucket)
        fix = (
            "Declare an aws.s3.BucketServerSideEncryptionConfiguration for it with sse_algorithm='aws:kms' and "
            "kms_master_key_id=<the project KMS key ARN> (components.shared.secure_bucket.SecureBucket does this)."
        )
        if not found or not blocks:
            report(f"{label} has no server-side encryption configuration. {fix}", bucket.urn)
            continue
        algorithms = {str(b.get("sseAlgorithm")) for b in blocks}
        if algorithms <= set(KMS_ALGORITHMS):
            unmanaged = [b for b in blocks if not is_customer_managed_key(peek(b, "kmsMasterKeyId"))]
            if unmanaged:
                report(
                    f"{label} is encrypted with SSE-KMS but with the AWS-managed key (no kms_master_key_id, or alias/aws/s3): "
                    "the project cannot control or audit who decrypts it. Set kms_master_key_id to the project KMS key ARN.",
                    bucket.urn,
                )
            continue
        if algorithms == {"AES256"} and is_elb_log_bucket(view, bucket):
            continue
        report(
            f"{label} is encrypted with {', '.join(sorted(algorithms))}, not with the project's KMS key. {fix} "
            "Only an access-log bucket whose policy lets nothing but the region's ELB log delivery write (s3:PutObject on <prefix>/AWSLogs/<account>/*) may use AES256, "
            "because Elastic Load Balancing cannot write to SSE-KMS buckets.",
            bucket.urn,
        )


def _public_access(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    account_blocks = view.of_type(*ACCOUNT_PUBLIC_ACCESS_BLOCK)
    if any(all(truthy(b.props.get(f)) for f in PUBLIC_ACCESS_FLAGS) for b in account_blocks):
        return  # the account-wide block covers every bucket
    for bucket in view.of_type(*BUCKETS):
        blocks = _side(view, bucket, PUBLIC_ACCESS_BLOCK)
        fix = (
            "Declare an aws.s3.BucketPublicAccessBlock for it with block_public_acls, block_public_policy, "
            "ignore_public_acls and restrict_public_buckets all True."
        )
        if not blocks:
            report(f"{label_of(bucket)} has no public access block. {fix}", bucket.urn)
            continue
        missing = sorted({f for b in blocks for f in PUBLIC_ACCESS_FLAGS if not truthy(b.props.get(f))})
        if missing and not any(all(truthy(b.props.get(f)) for f in PUBLIC_ACCESS_FLAGS) for b in blocks):
            report(f"{label_of(bucket)} has a public access block without {', '.join(missing)}. {fix}", bucket.urn)


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if is_allow(statement) or "*" not in principals(statement):
        return False
    actions = {str(a) for a in as_list(statement.get("Action"))}
    if not actions & {"s3:*", "*"}:
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    secure = get_path(condition, "Bool", "aws:SecureTransport")
    return any(str(v).lower() == "false" for v in as_list(secure))


def _tls_only(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    for bucket in view.of_type(*BUCKETS):
        if not any(_denies_insecure_transport(s) for s in bucket_policy_statements(view, bucket)):
            report(
                f"{label_of(bucket)} accepts requests over plain HTTP: its bucket policy has no statement denying "
                "s3:* to every principal when aws:SecureTransport is false. Add that Deny statement (on the bucket ARN "
                "and <bucket ARN>/*) to its aws.s3.BucketPolicy.",
                bucket.urn,
            )


def _versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    for bucket in view.of_type(*BUCKETS):
        if is_elb_log_bucket(view, bucket):
            continue
        configs = _side(view, bucket, VERSIONING)
        if configs:
            enabled = any(str(get_path(c.props, "versioningConfiguration", "status")) == "Enabled" for c in configs)
        else:
            enabled = truthy(get_path(bucket.props, "versioning", "enabled"))
        if not enabled:
            report(
                f"{label_of(bucket)} is not versioned, so an overwrite or delete of data or model artifacts cannot be undone. "
                "Declare an aws.s3.BucketVersioning for it with status 'Enabled' (and a lifecycle rule that expires "
                "noncurrent versions).",
                bucket.urn,
            )


def _acl(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    problems = []
    canned = args.props.get("acl")
    if canned in PUBLIC_CANNED_ACLS:
        problems.append(f"canned ACL {canned}")
    for grant in as_list(get_path(args.props, "accessControlPolicy", "grants")):
        uri = get_path(grant, "grantee", "uri")
        if uri in PUBLIC_GROUPS:
            problems.append(f"{get_path(grant, 'permission')} to {str(uri).rsplit('/', 1)[-1]}")
    if problems:
        report(
            f"{args.resource_type} '{args.name}' makes the bucket public ({', '.join(problems)}). Remove the ACL: buckets use "
            "object_ownership='BucketOwnerEnforced' (ACLs disabled) and grant access with IAM and bucket policies."
        )


s3_bucket_encryption = StackValidationPolicy(
    name="s3-bucket-encryption",
    description="Every S3 bucket is encrypted with SSE-KMS and the project's customer-managed key (ELB access-log buckets: SSE-S3).",
    validate=_encryption,
)
s3_public_access_block = StackValidationPolicy(
    name="s3-public-access-block",
    description="Every S3 bucket has a public access block with all four flags on.",
    validate=_public_access,
)
s3_tls_only = StackValidationPolicy(
    name="s3-tls-only",
    description="Every S3 bucket policy denies requests that do not use TLS.",
    validate=_tls_only,
)
s3_versioning = StackValidationPolicy(
    name="s3-versioning",
    description="Data and artifact buckets (every bucket but an ELB access-log bucket) are versioned.",
    validate=_versioning,
)

s3_no_public_acl = resource_policy(
    "s3-no-public-acl",
    "No bucket ACL grants access to everyone or to every AWS account.",
    [BUCKET_ACL],
    _acl,
)

POLICIES = [s3_bucket_encryption, s3_public_access_block, s3_tls_only, s3_versioning, s3_no_public_acl]
