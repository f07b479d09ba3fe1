"""The model bytes a pipeline registers are written once and never replaced.

SageMaker reads a package's ModelDataUrl again whenever it starts an instance (a scale-out, a
blue/green release, a host replacement), so the object a RegisterModel step names must be one that
nobody can overwrite afterwards. A training job's output is not: SageMaker writes it without
If-None-Match. The training pipeline registers the copy its SealModel step wrote with
`If-None-Match: *` under a sealed prefix, where the bucket's own policy refuses every write without
that header and every delete (components/training/access.py; docs/promotion.md, "Model bytes").

This stack policy joins each RegisterModel step's ModelDataUrl to its bucket's policy in the same
stack and requires:

- a key under a literal prefix of a literal bucket (text, or a Std:Join whose leading values are
  text): a run-time value such as the training job's S3ModelArtifacts says nothing about where the
  bytes are;
- that bucket declared in this stack, with a policy statement that denies s3:PutObject on that
  prefix to every principal when `s3:if-none-match` is absent (`Null`, no other condition);
- unless the bucket is force-destroyable (its teardown deletes every object): statements that deny
  s3:DeleteObject and s3:DeleteObjectVersion there to every principal, unconditionally. If-None-Match
  looks only at the current version, so a delete marker would let the key be written again.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any, Optional

from pulumi_policy import ReportViolation, StackValidationArgs, StackValidationPolicy

from guardrails.common import StackView, as_list, bullet_list, get_path, label_of, principals, truthy
from guardrails.s3 import BUCKETS, bucket_name, bucket_policy_statements
from guardrails.sagemaker_jobs import PIPELINE, iter_steps, load_definition

WRITE = "s3:PutObject"
DELETES = ("s3:DeleteObject", "s3:DeleteObjectVersion")
CONDITION_KEY = "s3:if-none-match"


def literal_location(url: Any) -> Optional[tuple[str, str]]:
    """(bucket, key prefix) every value of a ModelDataUrl falls under, or None when the definition
    does not fix one (a step property, a parameter)."""
    if isinstance(url, str):
        text = url.rsplit("/", 1)[0]
    else:
        join = url.get("Std:Join") if isinstance(url, Mapping) else None
        if not isinstance(join, Mapping) or join.get("On") != "/":
            return None
        values = as_list(join.get("Values"))
        leading: list[str] = []
        for value in values:
            if not isinstance(value, str):
                break
            leading.append(value)
        if len(leading) == len(values):  # all text: the object's own name is not part of the prefix
            leading = leading[:-1]
        text = "/".join(leading)
    if not text.startswith("s3://"):
        return None
    bucket, _, prefix = text[len("s3://") :].partition("/")
    return (bucket, prefix.strip("/")) if bucket else None


def _covers(patterns: Any, bucket: str, prefix: str) -> bool:
    """A Resource entry that matches every key under the prefix (IAM wildcards; any partition)."""
    keys = f"s3:::{bucket}/{prefix}/*" if prefix else f"s3:::{bucket}/*"
    for pattern in as_list(patterns):
        text = str(pattern)
        if text.startswith("arn:"):
            text = text.split(":", 2)[2]
        if fnmatch.fnmatchcase(keys, text.replace("[", "[[]")):
            return True
    return False


def _denies(statement: Mapping[str, Any], action: str, bucket: str, prefix: str) -> bool:
    """An explicit Deny of `action` to every principal on every key under the prefix."""
    if str(statement.get("Effect")) != "Deny" or "*" not in principals(statement):
        return False
    if any(key in statement for key in ("NotPrincipal", "NotAction", "NotResource")):
        return False
    actions = [str(a).lower() for a in as_list(statement.get("Action"))]
    return any(fnmatch.fnmatchcase(action.lower(), a) for a in actions) and _covers(statement.get("Resource"), bucket, prefix)


def _requires_if_none_match(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping) or set(condition) != {"Null"}:
        return False
    null = condition["Null"]
    if not isinstance(null, Mapping) or set(null) != {CONDITION_KEY}:
        return False
    values = as_list(null[CONDITION_KEY])
    return bool(values) and all(truthy(v) for v in values)


def location_problems(view: StackView, bucket: str, prefix: str) -> list[str]:
    """Why keys under s3://bucket/prefix/ could be replaced or deleted, judged on the stack's bucket policy."""
    where = f"s3://{bucket}/{prefix}/" if prefix else f"s3://{bucket}/"
    found = [b for b in view.of_type(*BUCKETS) if bucket_name(view, b) == bucket]
    if not found:
        return [f"{where}: bucket {bucket} is not declared in this stack, so its policy cannot be checked"]
    problems = []
    for resource in found:
        statements = bucket_policy_statements(view, resource)
        if not any(_denies(s, WRITE, bucket, prefix) and _requires_if_none_match(s) for s in statements):
            problems.append(
                f"{where}: the policy of {label_of(resource)} does not deny {WRITE} there to every principal when "
                f"{CONDITION_KEY} is absent (Null), so the registered object can be overwritten"
            )
        if truthy(resource.props.get("forceDestroy")):
            continue
        undenied = [a for a in DELETES if not any(_denies(s, a, bucket, prefix) and not s.get("Condition") for s in statements)]
        if undenied:
            problems.append(
                f"{where}: the policy of {label_of(resource)} does not deny {' and '.join(undenied)} there to every principal, "
                "and a delete marker frees the key for a new write"
            )
    return problems


def _registers_sealed(args: StackValidationArgs, report: ReportViolation) -> None:
    view = StackView(args)
    for pipeline in view.of_type(PIPELINE):
        definition = load_definition(pipeline.props.get("pipelineDefinition"))
        if definition is None:
            continue
        problems = []
        for step in iter_steps(definition.get("Steps")):
            if step.get("Type") != "RegisterModel":
                continue
            containers = as_list(get_path(step.get("Arguments") or {}, "InferenceSpecification", "Containers"))
            for container in [c for c in containers if isinstance(c, Mapping)]:
                url = container.get("ModelDataUrl")
                if url is None:  # the model is in the image: no bytes to replace
                    continue
                location = literal_location(url)
                if location is None:
                    problems.append(f"step '{step.get('Name')}' registers {url}: not a key under a fixed bucket and prefix")
                    continue
                problems += [f"step '{step.get('Name')}': {p}" for p in location_problems(view, *location)]
        if problems:
            report(
                f"{label_of(pipeline)} registers model bytes that could be replaced after registration:{bullet_list(problems)}\n"
                "Register the copy the SealModel step writes with If-None-Match: * under pipelines/<pipeline>/registered/ "
                "(components/training/definition/steps.py), in a bucket whose policy denies s3:PutObject there without "
                "s3:if-none-match, and deletes (components/training/access.py, model_bytes_statements).",
                pipeline.urn,
            )


sagemaker_pipeline_registers_sealed_models = StackValidationPolicy(
    name="sagemaker-pipeline-registers-sealed-models",
    description="Training pipelines register model bytes under a prefix whose bucket policy refuses writes without "
    "If-None-Match and deletes: a registered model cannot be replaced.",
    validate=_registers_sealed,
)
