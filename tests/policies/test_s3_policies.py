"""S3 guardrails (stack policies joining each bucket to its side-by-side settings), both ways."""

from __future__ import annotations

from policy_testkit import (
    Stack,
    analyze,
    assert_fails,
    assert_passes,
    bucket,
    statement,
    tls_deny,
)

S3_POLICIES = ("s3-bucket-encryption", "s3-public-access-block", "s3-tls-only", "s3-versioning")
ELB_US_EAST_1 = "arn:aws:iam::127311923021:root"


def test_a_secure_bucket_passes_every_s3_guardrail(pack):
    stack = Stack()
    bucket(stack, "data")
    bucket(stack, "artifacts", join_by_dependency=False)  # joined by the bucket name instead
    result = analyze(pack, stack)
    for policy in S3_POLICIES:
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
