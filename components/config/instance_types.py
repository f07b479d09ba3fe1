"""SageMaker instance types as AWS accepts them, per use: read from the installed botocore's service
model (the enum of the very request member the instance type ends up in), so a new instance family
is accepted as soon as botocore knows it and a typo is refused before anything is declared."""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

Use = Literal["training", "processing", "endpoint", "monitor"]

# Where each use's instance type goes in the SageMaker API ("[]" steps into a list's items).
REQUEST_MEMBER: dict[str, tuple[str, tuple[str, ...]]] = {
    "training": ("CreateTrainingJob", ("ResourceConfig", "InstanceType")),
    "processing": ("CreateProcessingJob", ("ProcessingResources", "ClusterConfig", "InstanceType")),
    "endpoint": ("CreateEndpointConfig", ("ProductionVariants", "[]", "InstanceType")),
    "monitor": ("CreateDataQualityJobDefinition", ("JobResources", "ClusterConfig", "InstanceType")),
}


def member_name(use: Use) -> str:
    operation, path = REQUEST_MEMBER[use]
    return f"{operation} {'.'.join(p for p in path if p != '[]')}"


@lru_cache(maxsize=None)
def instance_types(use: Use) -> tuple[str, ...]:
    """The enum botocore's sagemaker model declares for `use`'s request member."""
    import botocore.session

    operation, path = REQUEST_MEMBER[use]
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model(operation).input_shape
    for part in path:
        shape = shape.member if part == "[]" else shape.members[part]
    return tuple(shape.enum)


def _check(use: Use):
    def check(value: str) -> str:
        allowed = instance_types(use)
        if value in allowed:
            return value
        close = difflib.get_close_matches(value, allowed, n=3, cutoff=0.8)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(
            f"not a SageMaker instance type for {use}{hint}; expected one of the {len(allowed)} values botocore lists for {member_name(use)}, e.g. {allowed[0]}"
        )

    return check


# Annotated strs accepting exactly the instance types AWS accepts for each use.
TrainingInstanceType = Annotated[
    str, AfterValidator(_check("training")), Field(description=f"a SageMaker training instance type ({member_name('training')})")
]
ProcessingInstanceType = Annotated[
    str, AfterValidator(_check("processing")), Field(description=f"a SageMaker processing instance type ({member_name('processing')})")
]
EndpointInstanceType = Annotated[
    str, AfterValidator(_check("endpoint")), Field(description=f"a SageMaker endpoint instance type ({member_name('endpoint')})")
]
MonitorInstanceType = Annotated[
    str, AfterValidator(_check("monitor")), Field(description=f"a SageMaker monitor instance type ({member_name('monitor')})")
]
