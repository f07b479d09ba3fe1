"""sagemaker-model-shared-registry: every model serves a pinned version of the one shared group."""

from __future__ import annotations

import re

import pytest
from policy_testkit import MODEL_IMAGE, Stack, analyze, assert_fails, assert_passes, declared_defaults, findings

from tools.offline.analyzer import PolicyPackError

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
        (
            {"modelPackageName": "mlops-dev-churn"},
            "  - mlops-dev-churn is not a model package version ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)\n",
        ),
        ({"modelPackageName": ""}, "  - serves no model package"),
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


def test_every_container_of_a_multi_container_model_is_judged(pack):
    stack = Stack("prod")
    pinned = {"modelPackageName": f"{SHARED}/4"}
    both = stack.add("aws:sagemaker/model:Model", "both-pinned", {"executionRoleArn": ROLE, "containers": [pinned, pinned]})
    one = stack.add("aws:sagemaker/model:Model", "one-bare", {"executionRoleArn": ROLE, "containers": [pinned, {"image": MODEL_IMAGE}]})
    empty = stack.add("aws:sagemaker/model:Model", "empty", {"executionRoleArn": ROLE})
    result = analyze(pack, stack)
    assert [v.urn for v in findings(result, POLICY) if v.urn == both] == []
    assert_fails(result, POLICY, one, "serves no model package")
    assert_fails(result, POLICY, empty, "  - no container")


def test_the_message_names_the_model_every_problem_and_how_promotion_pins_a_version(pack):
    """The whole finding as the preview prints it (the engine puts the policy's description first)."""
    stack = Stack("prod")
    other = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-prod-churn/1"
    urn = stack.add(
        "aws:sagemaker/model:Model",
        "mixed",
        {
            "executionRoleArn": ROLE,
            "containers": [{"image": MODEL_IMAGE}, {"modelPackageName": other}, {"modelPackageName": f"{SHARED}/v2"}],
        },
    )
    assert assert_fails(analyze(pack, stack, {"all": "mandatory", POLICY: {"modelPackageGroup": "MLOps-Dev-Churn"}}), POLICY, urn) == (
        "SageMaker models serve a pinned integer version of the one shared model package group (never a bare image and "
        "artifact, never another group's package, never an unversioned reference).\n"
        "aws:sagemaker/model:Model 'mixed' does not serve a pinned version of the shared model registry 'MLOps-Dev-Churn':\n"
        "  - serves no model package (an image with a model artifact is not a registered version)\n"
        f"  - {other} is a package of group 'mlops-prod-churn', not of the shared group 'mlops-dev-churn'\n"
        f"  - {SHARED}/v2 does not pin an integer version (got 'v2')\n"
        "Serve primary_container.model_package_name = arn:aws:sagemaker:<region>:<registry account>:model-package/"
        "mlops-dev-churn/<N>: the version pinned in endpoint.modelPackageVersion of the registry read through "
        "registry.stack (python -m tools.promote pins it)."
    )


@pytest.mark.parametrize(
    ("group", "refused"),
    [
        *((g, f"'{g}' does not match") for g in ("-leading-dash", "has space", "x" * 64)),
        (5, "5 is not of type 'string'"),
    ],
)
def test_a_group_name_sagemaker_would_refuse_is_refused_in_the_config(pack, group, refused):
    with pytest.raises(PolicyPackError, match=re.escape(f"policy config for '{POLICY}': modelPackageGroup: {refused}")):
        analyze(pack, Stack("prod"), {POLICY: {"modelPackageGroup": group}})


def test_the_pack_declares_dev_s_group_as_the_default(pack):
    assert declared_defaults(pack, POLICY) == {POLICY: {"modelPackageGroup": "mlops-dev-churn"}}
