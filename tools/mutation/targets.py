"""What `make mutation` mutates, and the narrowest test command that guards each part.

A target's test command is the tests that must notice a change of its files: the module's own test
file(s), found by what imports the module, not the whole suite. `functions` narrows a file that
holds more than the target (the API's alarms in canary_api.py) to the named definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.repository import ROOT


@dataclass(frozen=True)
class Target:
    name: str
    group: str
    files: tuple[str, ...]  # globs from the repository root
    tests: tuple[str, ...]  # pytest arguments from the repository root
    functions: tuple[str, ...] = ()  # only these top-level functions/classes/methods, when given

    def command(self) -> list[str]:
        return ["python", "-m", "pytest", *PYTEST_FLAGS, *self.tests]


# Stop at the first failure (a killed mutant needs no second one) and leave no cache in the copy.
PYTEST_FLAGS = ("-x", "-q", "-p", "no:cacheprovider")


_ENDPOINT_RELEASE_TESTS = tuple(
    f"tests/components/endpoint/{t}.py" for t in ("test_release", "test_release_states", "test_release_recorded")
)
_LAMBDA_RELEASE_TESTS = ("tests/components/api/test_lambda_release.py", "tests/components/api/test_lambda_release_recorded.py")


# What the pack declares about every policy (a description that is a sentence, a described config
# schema with defaults): read from the pack's registry, no pack process, well under a second.
_PACK_DECLARATIONS = tuple(
    f"tests/policies/test_pack.py::{t}"
    for t in ("test_policies_are_named_described_and_unique", "test_configurable_values_have_schemas_with_defaults")
)


def _policies(name: str, files: tuple[str, ...], tests: tuple[str, ...]) -> Target:
    return Target(
        f"policies-{name}",
        "policies",
        tuple(f"policies/guardrails/{f}" for f in files),
        tuple(f"tests/policies/{t}" for t in tests) + (() if "" in tests else _PACK_DECLARATIONS),  # "": the whole pack's tests
    )


TARGETS: tuple[Target, ...] = (
    # The ones nobody else was editing when the first run was made come first.
    Target("codec", "codec", ("containers/model/churn/codec.py",), ("tests/containers/model/test_model_codec.py",)),
    Target("hooks", "hooks", ("containers/api/hooks/*.py",), ("tests/containers/api/test_traffic_hooks.py",)),
    Target("shared-iam", "iam", ("components/shared/iam.py",), ("tests/components/shared/test_iam.py",)),
    Target("training-access", "iam", ("components/training/access.py",), ("tests/components/training/test_access.py",)),
    Target("endpoint-release", "release", ("components/endpoint/release.py",), _ENDPOINT_RELEASE_TESTS),
    Target("lambda-release", "release", ("components/api/lambda_release.py",), _LAMBDA_RELEASE_TESTS),
    Target(
        "release-provider",
        "release",
        ("components/shared/release_provider.py",),
        # Its own tests first: a mutant they kill costs a second, not both providers' tests.
        ("tests/components/shared/test_release_provider.py",) + _ENDPOINT_RELEASE_TESTS + _LAMBDA_RELEASE_TESTS,
    ),
    # Every alarm's fields pinned with their reasons (tests/support/alarm_table.py), on the alarms
    # built alone under mocks: test_alarm_semantics.py checks the same table on the previewed
    # program, minutes per mutant.
    Target("endpoint-alarms", "alarms", ("components/endpoint/alarms.py",), ("tests/components/endpoint/test_alarms.py",)),
    Target(
        "api-alarms",
        "alarms",
        ("components/api/canary_api.py",),
        ("tests/components/api/test_api_alarms.py",),
        functions=("CanaryApi._alarms",),
    ),
    Target("promote", "promote", ("tools/promote/*.py",), ("tests/tools/promote/", "tests/gitops/test_verify_artifact.py")),
    _policies("iam", ("iam.py",), ("test_iam_policies.py",)),
    _policies("s3", ("s3.py",), ("test_s3_policies.py",)),
    _policies("lambda", ("lambda_.py",), ("test_lambda_policies.py",)),
    # Notebooks and Studio are tested with the other resources a change would add; the jobs model
    # (sagemaker_jobs.py) also feeds the cost estimate, whose tests price its counts and run times.
    _policies(
        "sagemaker",
        ("sagemaker.py", "sagemaker_endpoint.py", "sagemaker_jobs.py", "sagemaker_models.py", "sagemaker_studio.py"),
        ("test_sagemaker_policies.py", "test_added_resource_policies.py", "test_cost_policies.py"),
    ),
    _policies("cost", ("cost.py", "cost_estimate.py", "cost_schedules.py", "cost_services.py", "prices.py"), ("test_cost_policies.py",)),
    _policies("registry", ("registry.py",), ("test_registry_policies.py",)),
    # The load balancer's and Cognito's policies are the dashboard's: their tests are in test_dashboard_policies.py.
    _policies(
        "release-and-api",
        ("codedeploy.py", "apigateway.py", "alb.py", "cognito.py"),
        ("test_release_and_api_policies.py", "test_dashboard_policies.py"),
    ),
    _policies("storage-and-tags", ("tags.py", "kms.py", "sns.py", "logs.py", "data_stores.py"), ("test_storage_and_tag_policies.py",)),
    # ECR's scanning, tags and encryption are tested with the other storage, ECS with the dashboard.
    _policies(
        "added-resources",
        ("deletion.py", "network.py", "ecr.py", "ecs.py"),
        ("test_added_resource_policies.py", "test_storage_and_tag_policies.py", "test_dashboard_policies.py"),
    ),
    _policies("resource-policies", ("resource_policies.py",), ("test_resource_policy_principals.py",)),
    _policies("data-at-rest", ("data_at_rest.py",), ("test_data_at_rest.py",)),
    _policies(
        "exposure-deletion-identity",
        ("public_exposure.py", "deletion_protection.py", "identities.py", "transport.py"),
        ("test_exposure_deletion_identity_classes.py",),
    ),
    _policies("provider-schema", ("provider_schema.py", "schema_class.py", "classes.py"), ("test_provider_schema.py",)),
    # Shared helpers every policy uses: the whole pack's tests guard them.
    _policies("common", ("common.py", "aws_accounts.py"), ("",)),
)
# Any other guardrail module (one added later) is a target too, guarded by the whole pack's tests
# until a narrower test file is named for it above.
_NAMED = {f for t in TARGETS if t.group == "policies" for f in t.files}
_OTHERS = tuple(
    str(p.relative_to(ROOT))
    for p in sorted((ROOT / "policies" / "guardrails").glob("*.py"))
    if p.name != "__init__.py" and str(p.relative_to(ROOT)) not in _NAMED
)
if _OTHERS:
    TARGETS += (Target("policies-other", "policies", _OTHERS, ("tests/policies/",)),)


def select(names: list[str]) -> list[Target]:
    """The targets named (a target's name or its group's); all of them when none is named."""
    if not names:
        return list(TARGETS)
    known = {t.name for t in TARGETS} | {t.group for t in TARGETS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"--target: unknown {', '.join(unknown)}; expected one of: {', '.join(sorted(known))}")
    return [t for t in TARGETS if t.name in names or t.group in names]
