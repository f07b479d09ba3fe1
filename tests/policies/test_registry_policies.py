"""sagemaker-model-shared-registry: every model serves a pinned version of the one shared group."""

from __future__ import annotations

import pytest
from policy_testkit import MODEL_IMAGE, Stack, analyze, assert_fails, assert_passes

POLICY = "sagemaker-model-shared-registry"
ROLE = "arn:aws:iam::123456789012:role/mlops-prod-sagemaker-hosting"
SHARED = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn"


def model(stack: Stack, container: dict, name: str = "endpoint-model") -> str:
    return stack.add("aws:sagemaker/model:Model", name, {"executionRoleArn": ROLE, "primaryContainer": container})


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_a_pinned_version_of_the_shared_group_passes_in_both_stacks(pack, stack_name):
    stack = Stack(stack_name)
    model(stack, {"modelPackageName": f"{SHARED}/12"})
    # another account's registry (prod in its own account) is the same group
    model(stack, {"modelPackageName": "arn:aws:sagemaker:us-east-1:111122223333:model-package/mlops-dev-churn/3"}, name="other-account")
    assert_passes(analyze(pack, stack), POLICY)


@pytest.mark.parametrize(
    "container, fragment",
    [
        ({"image": MODEL_IMAGE, "modelDataUrl": "s3://artifacts/model.tar.gz"}, "serves no model package"),
        (
            {"modelPackageName": "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-prod-churn/1"},
            "is a package of group 'mlops-prod-churn', not of the shared group 'mlops-dev-churn'",
        ),
        (
            {"modelPackageName": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/mlops-dev-churn"},
            "is not a model package version ARN",
        ),
        ({"modelPackageName": "mlops-dev-churn"}, "is not a model package version ARN"),
        ({"modelPackageName": f"{SHARED}/latest"}, "does not pin an integer version (got 'latest')"),
        ({"modelPackageName": f"{SHARED}/0"}, "does not pin an integer version (got '0')"),
    ],
)
def test_anything_else_is_a_mandatory_violation_in_prod(pack, container, fragment):
    stack = Stack("prod")
    urn = model(stack, container)
    assert_fails(analyze(pack, stack), POLICY, urn, fragment, "model_package_name", "python -m tools.promote")


def test_the_shared_group_comes_from_the_policy_config(pack):
    stack = Stack("prod")
    urn = model(stack, {"modelPackageName": f"{SHARED}/1"})
    assert_passes(analyze(pack, stack, config={"all": "mandatory"}), POLICY)  # the default: dev's group
    other = {"all": "mandatory", POLICY: {"modelPackageGroup": "shared-churn"}}
    assert_fails(analyze(pack, stack, config=other), POLICY, urn, "not of the shared group 'shared-churn'")
