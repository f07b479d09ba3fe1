"""The training pipeline's own quality gate, evaluated on this machine.

`make demo` does not compare the AUC itself: it reads the pipeline definition the stack deploys
(the `aws.sagemaker.Pipeline` resource's `pipelineDefinition`, as the offline preview recorded it
from the real program) and evaluates its condition step (`CheckAuc`) the way SageMaker does —
`Std:JsonGet` on the evaluation step's property file, the comparison the definition names, and the
branch it selects — against the evaluation report the local evaluate step wrote. So a change to the
definition (an inverted comparison, a wrong JSON path, a swapped branch) changes the demo's verdict.

Supported: the condition types SageMaker Pipelines defines (Equals, GreaterThan,
GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo, In, Not, Or), literal values, pipeline
parameters (their default values), execution variables the caller names (`Execution.<name>`, for a
step's arguments: tools/rehearsal/seal.py), Std:JsonGet on a property file and Std:Join. Anything
else is a GateError naming it, never a silent pass.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from components.training.definition.definition import STEP_CONDITION

PIPELINE_TYPE = "aws:sagemaker/pipeline:Pipeline"
# Where a processing job's outputs are on its container; the rehearsal moves it to <work>/processing.
PROCESSING_ROOT = "/opt/ml/processing"
COMPARISONS = {
    "Equals": (operator.eq, "=="),
    "GreaterThan": (operator.gt, ">"),
    "GreaterThanOrEqualTo": (operator.ge, ">="),
    "LessThan": (operator.lt, "<"),
    "LessThanOrEqualTo": (operator.le, "<="),
}
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class GateError(Exception):
    """The definition cannot be evaluated here; the message says what and where."""


@dataclass(frozen=True)
class GateVerdict:
    step: str
    condition: str
    """The condition with its values, e.g. `JsonGet(EvaluationReport, binary_classification_metrics.auc.value)=0.84 >= 0.8`."""
    holds: bool
    branch: tuple[str, ...]
    """The steps the condition selects (IfSteps when it holds, ElseSteps otherwise), as `Name (Type)`."""
    registers: bool
    """The selected branch registers a model package and has no Fail step."""

    def describe(self) -> str:
        branch = ", ".join(self.branch) or "no steps"
        verdict = "registers the model" if self.registers else "registers nothing"
        return f"{self.step}: {self.condition} -> {str(self.holds).lower()} -> {branch}: {verdict}"


def definition_from_preview(preview: Mapping[str, Any]) -> dict[str, Any]:
    """The pipeline definition of the one aws.sagemaker.Pipeline in a `tools.preview --json` result."""
    pipelines = [r for r in preview.get("resources") or [] if r.get("type") == PIPELINE_TYPE]
    if len(pipelines) != 1:
        raise GateError(f"the preview of {preview.get('stack')} declares {len(pipelines)} {PIPELINE_TYPE} resources, expected 1")
    text = (pipelines[0].get("inputs") or {}).get("pipelineDefinition")
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise GateError(f"{pipelines[0].get('name')}: pipelineDefinition is not JSON") from None


def _all_steps(steps: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    found = []
    for step in steps:
        found.append(step)
        arguments = step.get("Arguments") or {}
        if step.get("Type") == "Condition":
            found += _all_steps(list(arguments.get("IfSteps") or []) + list(arguments.get("ElseSteps") or []))
    return found


class DefinitionEvaluator:
    def __init__(self, definition: Mapping[str, Any], processing_dir: Path, execution: Optional[Mapping[str, str]] = None):
        self.definition = definition
        self.processing_dir = processing_dir
        self.execution = dict(execution or {})
        self.steps = {s.get("Name"): s for s in _all_steps(list(definition.get("Steps") or []))}

    # ---- values ----------------------------------------------------------------------------------
    def value(self, expression: Any) -> tuple[Any, str]:
        """(value, how it reads) of a definition expression."""
        if isinstance(expression, (bool, int, float, str)):
            return expression, repr(expression) if isinstance(expression, str) else str(expression)
        if isinstance(expression, Mapping) and "Get" in expression:
            return self._get(str(expression["Get"]))
        if isinstance(expression, Mapping) and "Std:JsonGet" in expression:
            return self._json_get(expression["Std:JsonGet"])
        if isinstance(expression, Mapping) and "Std:Join" in expression:
            join = expression["Std:Join"]
            parts = [str(self.value(v)[0]) for v in join.get("Values") or []]
            text = str(join.get("On", "")).join(parts)
            return text, repr(text)
        raise GateError(f"cannot evaluate {json.dumps(expression)[:200]} here")

    def _get(self, reference: str) -> tuple[Any, str]:
        if reference.startswith("Parameters."):
            name = reference.split(".", 1)[1]
            for parameter in self.definition.get("Parameters") or []:
                if parameter.get("Name") == name:
                    return parameter.get("DefaultValue"), f"{name}={parameter.get('DefaultValue')!r}"
            raise GateError(f"{reference}: the definition has no such parameter")
        if reference.startswith("Execution.") and reference.split(".", 1)[1] in self.execution:
            value = self.execution[reference.split(".", 1)[1]]
            return value, f"{reference}={value!r}"
        raise GateError(f"{reference}: only pipeline parameters and property files can be evaluated before a run")

    def property_file(self, reference: str) -> Path:
        """`Steps.<step>.PropertyFiles.<name>` -> the local file the step wrote."""
        match = re.fullmatch(r"Steps\.([^.]+)\.PropertyFiles\.([^.]+)", reference)
        if not match:
            raise GateError(f"{reference}: not a property file reference")
        step_name, file_name = match.groups()
        step = self.steps.get(step_name)
        if step is None:
            raise GateError(f"{reference}: no step {step_name!r} in the definition")
        entry = next((p for p in step.get("PropertyFiles") or [] if p.get("PropertyFileName") == file_name), None)
        if entry is None:
            raise GateError(f"{reference}: step {step_name} declares no property file {file_name!r}")
        outputs = ((step.get("Arguments") or {}).get("ProcessingOutputConfig") or {}).get("Outputs") or []
        output = next((o for o in outputs if o.get("OutputName") == entry.get("OutputName")), None)
        local = ((output or {}).get("S3Output") or {}).get("LocalPath")
        if not isinstance(local, str) or not local.startswith(PROCESSING_ROOT):
            raise GateError(
                f"{reference}: output {entry.get('OutputName')!r} of step {step_name} has no local path under {PROCESSING_ROOT}"
            )
        return self.processing_dir / local[len(PROCESSING_ROOT) :].strip("/") / str(entry.get("FilePath"))

    def _json_get(self, spec: Mapping[str, Any]) -> tuple[Any, str]:
        reference = str((spec.get("PropertyFile") or {}).get("Get"))
        path = str(spec.get("Path"))
        file = self.property_file(reference)
        try:
            node: Any = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise GateError(f"{reference} ({file}): cannot read it: {exc}") from None
        for key, index in _PATH_PART.findall(path):
            try:
                node = node[int(index)] if index else node[key]
            except (KeyError, IndexError, TypeError):
                raise GateError(f"{reference} ({file}) has no {path}") from None
        return node, f"JsonGet({reference.rsplit('.', 1)[-1]}, {path})={node}"

    # ---- conditions ------------------------------------------------------------------------------
    def condition(self, condition: Mapping[str, Any]) -> tuple[bool, str]:
        kind = condition.get("Type")
        if kind in COMPARISONS:
            compare, symbol = COMPARISONS[kind]
            (left, left_text), (right, right_text) = self.value(condition.get("LeftValue")), self.value(condition.get("RightValue"))
            try:
                holds = bool(compare(_number(left), _number(right)))
            except TypeError:
                raise GateError(f"{kind}: cannot compare {left!r} with {right!r}") from None
            return holds, f"{left_text} {symbol} {right_text}"
        if kind == "Not":
            holds, text = self.condition(condition.get("Expression") or {})
            return not holds, f"not ({text})"
        if kind == "Or":
            results = [self.condition(c) for c in condition.get("Conditions") or []]
            return any(h for h, _ in results), " or ".join(f"({t})" for _, t in results)
        if kind == "In":
            value, text = self.value(condition.get("QueryValue"))
            values = [self.value(v)[0] for v in condition.get("Values") or []]
            return value in values, f"{text} in {values}"
        raise GateError(f"condition type {kind!r} is not one SageMaker Pipelines defines")

    def gate(self, step_name: str = STEP_CONDITION) -> GateVerdict:
        step = self.steps.get(step_name)
        if step is None or step.get("Type") != "Condition":
            raise GateError(f"the pipeline definition has no condition step {step_name!r}")
        arguments = step.get("Arguments") or {}
        results = [self.condition(c) for c in arguments.get("Conditions") or []]
        if not results:
            raise GateError(f"{step_name} has no conditions")
        holds = all(h for h, _ in results)  # a condition step's conditions are ANDed
        branch = list(arguments.get("IfSteps" if holds else "ElseSteps") or [])
        kinds = [s.get("Type") for s in branch]
        registers = "RegisterModel" in kinds and "Fail" not in kinds
        return GateVerdict(
            step=step_name,
            condition=" and ".join(t for _, t in results),
            holds=holds,
            branch=tuple(f"{s.get('Name')} ({s.get('Type')})" for s in branch),
            registers=registers,
        )


def _number(value: Any) -> Any:
    """SageMaker compares JSON numbers and numeric strings as numbers."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def evaluate_gate(preview: Mapping[str, Any], processing_dir: Path, step_name: Optional[str] = None) -> GateVerdict:
    return DefinitionEvaluator(definition_from_preview(preview), processing_dir).gate(step_name or STEP_CONDITION)
