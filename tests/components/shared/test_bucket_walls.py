"""Each stack's buckets are walled off from the other stack's roles (its program's `mlops-<stack>-*`
and its CI's `sagemaker-mlops-github-*-<stack>`), by name and by bucket policy, on both stacks'
recorded resources; the registry's artifact bucket lets its consumer stack read, and nothing more,
no one deletes a trained or sealed model, and a sealed model is written once, with If-None-Match."""

from __future__ import annotations

import sys
from pathlib import Path

import pulumi
import pytest

from components.shared.secure_bucket import CONSUMER_READ_ACTIONS, MAX_BUCKET_PREFIX, bucket_prefix, stack_wall
from components.shared.stack_naming import GITHUB_ROLE_PREFIX, other, stack_role_patterns
from tools.offline.records import parse_json_input, stack_records

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bootstrap"))  # the IAM evaluator and bootstrap's records
from bootstrap_records import MOCK_ACCOUNT, ONE_ACCOUNT, deployed
from iam_eval import allowed, applies, same_account_allowed

POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ARTIFACTS = "training-artifacts-policy"


def bucket_policies(stack: str) -> dict[str, dict]:
    return {p["name"]: parse_json_input(p["inputs"]["policy"]) for p in stack_records(stack).of_type(POLICY)}


def by_sid(document: dict, sid: str) -> dict:
    found = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, (sid, [s.get("Sid") for s in document["Statement"]])
    return found[0]


def bucket_arn(document: dict) -> str:
    return by_sid(document, "DenyInsecureTransport")["Resource"][0]


def policy_denies(document: dict, principal_arn: str, action: str, resource: str, request: dict | None = None) -> bool:
    context = {"aws:PrincipalArn": principal_arn, **(request or {})}
    return any(
        s["Effect"] == "Deny" and s["Principal"] in ("*", {"AWS": "*"}) and applies(s, action, resource, context)
        for s in document["Statement"]
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_bucket_denies_every_role_of_the_other_stack(stack):
    policies = bucket_policies(stack)
    assert policies
    for name, document in policies.items():
        sid = "DenyReaderStacksAllButReads" if (stack, name) == ("dev", ARTIFACTS) else "DenyOtherStacks"
        wall = by_sid(document, sid)
        assert wall["Effect"] == "Deny" and wall["Principal"] == {"AWS": "*"}, name
        assert wall["Condition"] == {"ArnLike": {"aws:PrincipalArn": stack_role_patterns(other(stack))}}, name
        assert sorted(wall["Resource"]) == sorted([bucket_arn(document), f"{bucket_arn(document)}/*"]), name


def test_devs_artifact_bucket_lets_prod_read_exactly_the_model_and_baseline_reads():
    document = bucket_policies("dev")[ARTIFACTS]
    assert [s.get("Sid") for s in document["Statement"]].count("DenyOtherStacks") == 0
    wall = by_sid(document, "DenyReaderStacksAllButReads")
    assert "Action" not in wall and wall["NotAction"] == ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]
    assert list(CONSUMER_READ_ACTIONS) == wall["NotAction"]
    # dev's other buckets let prod read nothing.
    for name, other_document in bucket_policies("dev").items():
        if name != ARTIFACTS:
            assert by_sid(other_document, "DenyOtherStacks")["Action"] == ["s3:*"], name


@pytest.fixture(scope="module")
def bootstrap():
    return deployed(ONE_ACCOUNT)


def test_prods_deploy_role_cannot_write_devs_buckets_in_a_one_account_layout(bootstrap):
    role = f"arn:aws:iam::{MOCK_ACCOUNT}:role/{GITHUB_ROLE_PREFIX}deploy-prod"
    hosting = f"arn:aws:iam::{MOCK_ACCOUNT}:role/mlops-prod-sagemaker-execution"
    identity = bootstrap.policies("deploy-prod")
    for name, document in bucket_policies("dev").items():
        bucket = bucket_arn(document)
        model = f"{bucket}/pipelines/mlops-dev-training/training/job-1/output/model.tar.gz"
        for action, resource in (("s3:PutObject", model), ("s3:DeleteObject", model), ("s3:PutBucketPolicy", bucket)):
            for principal in (role, hosting):
                # The bucket policy alone refuses it, whatever the role's own policies say.
                assert policy_denies(document, principal, action, resource), (name, principal, action)
            assert not (allowed(identity, action, resource) and not policy_denies(document, role, action, resource))
        reads = not policy_denies(document, role, "s3:GetObject", model)
        assert reads == (name == ARTIFACTS), name
    # The exemption is real: prod's deploy role still reads the model bytes `tools.promote --verify` hashes.
    artifacts = bucket_policies("dev")[ARTIFACTS]
    model = f"{bucket_arn(artifacts)}/pipelines/mlops-dev-training/training/job-1/output/model.tar.gz"
    assert allowed(identity, "s3:GetObject", model) and not policy_denies(artifacts, role, "s3:GetObject", model)


def test_devs_own_roles_are_not_walled_off_their_buckets():
    for name, document in bucket_policies("dev").items():
        resource = f"{bucket_arn(document)}/x"
        for principal in (
            f"arn:aws:iam::{MOCK_ACCOUNT}:role/mlops-dev-sagemaker-execution",
            f"arn:aws:iam::{MOCK_ACCOUNT}:role/{GITHUB_ROLE_PREFIX}deploy-dev",
        ):
            assert not policy_denies(document, principal, "s3:PutObject", resource), (name, principal)


def test_no_one_deletes_a_trained_or_sealed_model_of_the_shared_registry():
    document = bucket_policies("dev")[ARTIFACTS]
    deny = by_sid(document, "DenyDeletingModelBytes")
    assert deny["Principal"] == {"AWS": "*"} and "Condition" not in deny
    model = f"{bucket_arn(document)}/pipelines/mlops-dev-training/training/job-1/output/model.tar.gz"
    sealed = f"{bucket_arn(document)}/pipelines/mlops-dev-training/registered/exec-1/model.tar.gz"
    dev_role = f"arn:aws:iam::{MOCK_ACCOUNT}:role/mlops-dev-sagemaker-execution"
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
        assert policy_denies(document, dev_role, action, model)
        assert policy_denies(document, dev_role, action, sealed)
    # New models are still written: the training job's PutObject is not denied.
    assert not policy_denies(document, dev_role, "s3:PutObject", model)


# A request as S3 sees it over TLS: with If-None-Match (`s3:if-none-match`) or without.
TLS = {"aws:SecureTransport": "true"}
CONDITIONAL = {**TLS, "s3:if-none-match": "*"}


def test_a_sealed_model_is_written_only_with_if_none_match_by_anyone(bootstrap):
    """The bucket policy refuses every write under registered/ that does not carry If-None-Match (so S3
    can refuse an overwrite, 412), whatever the writer's own policies: the pipeline's role, both deploy
    roles, and an administrator with s3:* on everything. The pipeline's conditional write goes through."""
    records = stack_records("dev")
    document = bucket_policies("dev")[ARTIFACTS]
    sealed = f"{bucket_arn(document)}/pipelines/mlops-dev-training/registered/exec-1/model.tar.gz"
    execution = parse_json_input(records.one("aws:iam/rolePolicy:RolePolicy", "training-execution-policy")["inputs"]["policy"])
    pipeline_role = f"arn:aws:iam::{MOCK_ACCOUNT}:role/mlops-dev-sagemaker-execution"
    administrator = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    writers = {
        pipeline_role: ([execution], bootstrap.boundary("dev")),
        f"arn:aws:iam::{MOCK_ACCOUNT}:role/{GITHUB_ROLE_PREFIX}deploy-dev": (bootstrap.policies("deploy-dev"), None),
        f"arn:aws:iam::{MOCK_ACCOUNT}:role/{GITHUB_ROLE_PREFIX}deploy-prod": (bootstrap.policies("deploy-prod"), None),
        f"arn:aws:iam::{MOCK_ACCOUNT}:role/Administrator": ([administrator], None),
    }
    rule = by_sid(document, "DenyUnconditionalWritesOfSealedModels")
    for principal, (identity, boundary) in writers.items():
        assert not same_account_allowed(identity, document, principal, "s3:PutObject", sealed, TLS, boundary=boundary), principal
        # That statement alone refuses it (prod's deploy role is also walled off dev's bucket), and only without the header.
        assert applies(rule, "s3:PutObject", sealed, {"aws:PrincipalArn": principal, **TLS}), principal
        assert not applies(rule, "s3:PutObject", sealed, {"aws:PrincipalArn": principal, **CONDITIONAL}), principal
        for action in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ReplicateObject", "s3:ReplicateDelete"):
            assert not same_account_allowed(identity, document, principal, action, sealed, CONDITIONAL, boundary=boundary), (
                principal,
                action,
            )
    # The pipeline role is allowed the write by its own policy (inside its boundary): only the header is missing.
    identity, boundary = writers[pipeline_role]
    assert allowed(identity, "s3:PutObject", sealed, TLS, boundary=boundary)
    assert same_account_allowed(identity, document, pipeline_role, "s3:PutObject", sealed, CONDITIONAL, boundary=boundary)
    # Elsewhere writes need no header: SageMaker's own uploads (training output, processing outputs) go on.
    training = f"{bucket_arn(document)}/pipelines/mlops-dev-training/training/job-1/output/model.tar.gz"
    report = f"{bucket_arn(document)}/pipelines/mlops-dev-training/exec-1/seal/seal.json"
    for resource in (training, report):
        assert same_account_allowed(identity, document, pipeline_role, "s3:PutObject", resource, TLS, boundary=boundary), resource


def test_bucket_names_fit_and_a_long_one_is_refused_by_name():
    assert bucket_prefix("training-artifacts", "mlops-prod") == "mlops-prod-training-artifacts-"
    with pytest.raises(pulumi.RunError, match=r"SecureBucket 'a-very-long-component-name-for-a-bucket'.*at most 37"):
        bucket_prefix("a-very-long-component-name-for-a-bucket", "mlops-prod")
    assert MAX_BUCKET_PREFIX == 63 - 26


def test_a_prefix_or_reader_outside_the_stacks_is_refused_by_name():
    with pytest.raises(pulumi.RunError, match=r"SecureBucket 'logs' name_prefix = 'mlops-qa'.*'mlops-dev' or 'mlops-prod'"):
        stack_wall("logs", "mlops-qa", (), ["arn:aws:s3:::b"])
    with pytest.raises(pulumi.RunError, match=r"SecureBucket 'logs' reader_stacks = \['dev'\]"):
        stack_wall("logs", "mlops-dev", ("dev",), ["arn:aws:s3:::b"])
