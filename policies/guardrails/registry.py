"""Promotion by identity: every endpoint serves a pinned version of the one shared model registry.

The shared model package group is named in the stack's policy config (`modelPackageGroup`), the
reviewed copy on the base branch, so a change to the program or its config cannot move an endpoint
onto another group, an unpinned "latest" reference or a bare image with an S3 artifact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Callable

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs

from guardrails.common import as_list, bullet_list, label_of, resource_policy

MODEL = "aws:sagemaker/model:Model"
# The group the registry's owner (dev, name prefix mlops-dev) declares; a stack config names it explicitly.
DEFAULT_GROUP = "mlops-dev-churn"
# arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>
_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/(?P<group>[^/]+)/(?P<version>[^/]+)$")


def package_problem(name: Any, group: str) -> str | None:
    """Why `name` (a container's modelPackageName) is not a pinned version of `group`, or None."""
    if not isinstance(name, str) or not name:
        return "serves no model package (an image with a model artifact is not a registered version)"
    found = _PACKAGE_ARN.match(name)
    if found is None:
        return f"{name} is not a model package version ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
    # SageMaker lower-cases group names in package ARNs.
    if found["group"] != group.lower():
        return f"{name} is a package of group '{found['group']}', not of the shared group '{group.lower()}'"
    if not found["version"].isdigit() or int(found["version"]) < 1:
        return f"{name} does not pin an integer version (got '{found['version']}')"
    return None


def _shared_registry(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    group = str(args.get_config().get("modelPackageGroup") or DEFAULT_GROUP)
    containers = [c for key in ("primaryContainer", "containers") for c in as_list(args.props.get(key)) if isinstance(c, Mapping)]
    problems = [p for p in (package_problem(c.get("modelPackageName"), group) for c in containers) if p]
    if not containers:
        problems.append("no container")
    if problems:
        report(
            f"{label_of(args)} does not serve a pinned version of the shared model registry '{group}':{bullet_list(problems)}\n"
            "Serve primary_container.model_package_name = arn:aws:sagemaker:<region>:<registry account>:model-package/"
            f"{group.lower()}/<N>: the version pinned in endpoint.modelPackageVersion of the registry read through "
            "registry.stack (python -m tools.promote pins it)."
        )


sagemaker_model_shared_registry = resource_policy(
    "sagemaker-model-shared-registry",
    "SageMaker models serve a pinned integer version of the one shared model package group (never a bare image and "
    "artifact, never another group's package, never an unversioned reference).",
    [MODEL],
    _shared_registry,
    config_schema=PolicyConfigSchema(
        properties={
            "modelPackageGroup": {
                "type": "string",
                "pattern": r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
                "default": DEFAULT_GROUP,
                "description": "The shared model package group (owned by the registry's stack) that every endpoint serves from.",
            }
        },
    ),
)

POLICIES = [sagemaker_model_shared_registry]
