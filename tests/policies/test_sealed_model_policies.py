"""sagemaker-pipeline-registers-sealed-models: a pipeline registers model bytes under a prefix whose
bucket policy (in the same stack) refuses writes without If-None-Match and deletes, both ways."""

from __future__ import annotations

import json
from typing import Any

import pytest
from policy_testkit import Stack, analyze, assert_fails, assert_passes, bucket, statement, tls_deny

POLICY = "sagemaker-pipeline-registers-sealed-models"
BUCKET = "mlops-prod-training-artifacts-1a2b"
PREFIX = "pipelines/mlops-prod-training/registered"
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
SEALED_URL = {"Std:Join": {"On": "/", "Values": ["s3:/", BUCKET, PREFIX, EXECUTION_ID, "model.tar.gz"]}}
TRAINING_OUTPUT = {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


def sealed_writes(resource: str = f"arn:aws:s3:::{BUCKET}/{PREFIX}/*", **condition: Any) -> dict[str, Any]:
    return statement(
        ["s3:PutObject"],
        [resource],
        effect="Deny",
        Principal={"AWS": "*"},
        Condition=condition or {"Null": {"s3:if-none-match": "true"}},
    )


def no_deletes(resource: str = f"arn:aws:s3:::{BUCKET}/{PREFIX}/*") -> dict[str, Any]:
    return statement(["s3:DeleteObject", "s3:DeleteObjectVersion"], [resource], effect="Deny", Principal={"AWS": "*"})


def registry(stack: Stack, url: Any, statements: list[dict[str, Any]], force_destroy: bool = False) -> str:
    """The artifact bucket with `statements` in its policy, and a pipeline registering `url`."""
    bucket(stack, BUCKET, statements=[tls_deny(BUCKET), *statements], force_destroy=force_destroy)
    register = {
        "Name": "RegisterModel",
        "Type": "RegisterModel",
        "Arguments": {"InferenceSpecification": {"Containers": [{"Image": "image", "ModelDataUrl": url}]}},
    }
    body = {
        "Version": "2020-12-01",
        "Steps": [{"Name": "CheckAuc", "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [register], "ElseSteps": []}}],
    }
    return stack.add(
        "aws:sagemaker/pipeline:Pipeline",
        "training-pipeline",
        {"pipelineName": "mlops-prod-training", "pipelineDefinition": json.dumps(body)},
    )


def test_a_pipeline_registering_the_sealed_copy_of_a_guarded_prefix_passes(pack):
    stack = Stack()
    registry(stack, SEALED_URL, [sealed_writes(), no_deletes()])
    assert_passes(analyze(pack, stack), POLICY)


def test_a_bucket_wide_rule_covers_the_prefix_and_a_force_destroyable_bucket_may_allow_deletes(pack):
    stack = Stack()
    registry(stack, SEALED_URL, [sealed_writes(f"arn:aws:s3:::{BUCKET}/*")], force_destroy=True)
    assert_passes(analyze(pack, stack), POLICY)


def test_registering_the_training_output_fails(pack):
    stack = Stack()
    urn = registry(stack, TRAINING_OUTPUT, [sealed_writes(), no_deletes()])
    assert_fails(
        analyze(pack, stack),
        POLICY,
        urn,
        "registers model bytes that could be replaced after registration",
        "step 'RegisterModel' registers {'Get': 'Steps.Train.ModelArtifacts.S3ModelArtifacts'}: not a key under a fixed bucket and prefix",
        "under pipelines/<pipeline>/registered/",
    )


@pytest.mark.parametrize(
    ("statements", "missing"),
    [
        # No rule at all, a rule on another prefix, a rule that lets some principals write, one with a
        # further condition (it would deny less), one on If-Match instead.
        ([no_deletes()], "does not deny s3:PutObject there to every principal when s3:if-none-match is absent"),
        ([sealed_writes(f"arn:aws:s3:::{BUCKET}/pipelines/mlops-prod-training/sealed/*"), no_deletes()], "does not deny s3:PutObject"),
        (
            [{**sealed_writes(), "Principal": {"AWS": "arn:aws:iam::123456789012:role/mlops-prod-x"}}, no_deletes()],
            "does not deny s3:PutObject",
        ),
        (
            [sealed_writes(Null={"s3:if-none-match": "true"}, ArnNotLike={"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}), no_deletes()],
            "does not deny s3:PutObject",
        ),
        ([sealed_writes(Null={"s3:if-match": "true"}), no_deletes()], "does not deny s3:PutObject"),
        # Writes guarded, deletes not (or only one of them): a delete marker frees the key.
        ([sealed_writes()], "does not deny s3:DeleteObject and s3:DeleteObjectVersion there"),
        (
            [sealed_writes(), statement(["s3:DeleteObject"], [f"arn:aws:s3:::{BUCKET}/*"], effect="Deny", Principal="*")],
            "does not deny s3:DeleteObjectVersion there",
        ),
    ],
)
def test_a_prefix_its_bucket_policy_does_not_seal_fails(pack, statements, missing):
    stack = Stack()
    urn = registry(stack, SEALED_URL, statements)
    message = assert_fails(analyze(pack, stack), POLICY, urn, f"s3://{BUCKET}/{PREFIX}/: the policy of aws:s3/bucket:Bucket", missing)
    assert message.count("\n  - ") == 1, message


def test_a_bucket_of_another_stack_cannot_be_judged_and_fails(pack):
    stack = Stack()
    url = {"Std:Join": {"On": "/", "Values": ["s3:/", "someone-elses-bucket", PREFIX, EXECUTION_ID, "model.tar.gz"]}}
    urn = registry(stack, url, [sealed_writes(), no_deletes()])
    assert_fails(analyze(pack, stack), POLICY, urn, "bucket someone-elses-bucket is not declared in this stack")
