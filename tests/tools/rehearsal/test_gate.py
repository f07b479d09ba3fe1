"""tools/rehearsal/gate.py on small definitions: every condition type SageMaker defines, parameters,
and a clear error (never a pass) for what it cannot evaluate."""

from __future__ import annotations

import json

import pytest

from tools.rehearsal.gate import DefinitionEvaluator, GateError, evaluate_gate

REPORT = {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}
AUC = {"Std:JsonGet": {"PropertyFile": REPORT, "Path": "metrics.auc.value"}}


def definition(*conditions, parameters=()):
    evaluate = {
        "Name": "Evaluate",
        "Type": "Processing",
        "PropertyFiles": [{"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}],
        "Arguments": {
            "ProcessingOutputConfig": {
                "Outputs": [{"OutputName": "evaluation", "S3Output": {"LocalPath": "/opt/ml/processing/evaluation"}}]
            }
        },
    }
    gate = {
        "Name": "CheckAuc",
        "Type": "Condition",
        "Arguments": {
            "Conditions": list(conditions),
            "IfSteps": [{"Name": "RegisterModel", "Type": "RegisterModel"}],
            "ElseSteps": [{"Name": "AucBelowThreshold", "Type": "Fail"}],
        },
    }
    return {"Parameters": list(parameters), "Steps": [evaluate, gate]}


@pytest.fixture
def processing(tmp_path):
    (tmp_path / "evaluation").mkdir()
    (tmp_path / "evaluation" / "evaluation.json").write_text(json.dumps({"metrics": {"auc": {"value": 0.82}}}))
    return tmp_path


@pytest.mark.parametrize(
    "condition, registers",
    [
        ({"Type": "GreaterThanOrEqualTo", "LeftValue": AUC, "RightValue": 0.82}, True),
        ({"Type": "GreaterThan", "LeftValue": AUC, "RightValue": 0.82}, False),
        ({"Type": "LessThan", "LeftValue": AUC, "RightValue": 0.9}, True),
        ({"Type": "LessThanOrEqualTo", "LeftValue": AUC, "RightValue": 0.8}, False),
        ({"Type": "Equals", "LeftValue": AUC, "RightValue": "0.82"}, True),
        ({"Type": "Not", "Expression": {"Type": "GreaterThan", "LeftValue": AUC, "RightValue": 0.9}}, True),
        (
            {
                "Type": "Or",
                "Conditions": [
                    {"Type": "GreaterThan", "LeftValue": AUC, "RightValue": 0.9},
                    {"Type": "LessThan", "LeftValue": AUC, "RightValue": 0.5},
                ],
            },
            False,
        ),
        ({"Type": "In", "QueryValue": AUC, "Values": [0.5, 0.82]}, True),
        ({"Type": "GreaterThanOrEqualTo", "LeftValue": AUC, "RightValue": {"Get": "Parameters.MinAuc"}}, False),
    ],
)
def test_conditions_select_the_branch_sagemaker_would(processing, condition, registers):
    parameters = [{"Name": "MinAuc", "Type": "Float", "DefaultValue": 0.9}]
    verdict = DefinitionEvaluator(definition(condition, parameters=parameters), processing).gate()
    assert verdict.registers is registers and verdict.holds is registers
    assert verdict.branch == (("RegisterModel (RegisterModel)",) if registers else ("AucBelowThreshold (Fail)",))


@pytest.mark.parametrize(
    "else_steps",
    [
        [],
        [{"Name": "Notify", "Type": "Lambda"}],
        [{"Name": "RegisterModel", "Type": "RegisterModel"}, {"Name": "AucBelowThreshold", "Type": "Fail"}],
    ],
    ids=["empty", "neither-register-nor-fail", "register-and-fail"],
)
def test_a_branch_registers_only_with_a_register_step_and_no_fail_step(processing, else_steps):
    document = definition({"Type": "GreaterThan", "LeftValue": AUC, "RightValue": 0.9})
    document["Steps"][1]["Arguments"]["ElseSteps"] = else_steps
    verdict = DefinitionEvaluator(document, processing).gate()
    assert verdict.holds is False
    assert verdict.registers is False
    assert verdict.describe().endswith(": registers nothing")


def test_all_conditions_of_a_step_must_hold(processing):
    verdict = DefinitionEvaluator(
        definition(
            {"Type": "GreaterThan", "LeftValue": AUC, "RightValue": 0.5}, {"Type": "GreaterThan", "LeftValue": AUC, "RightValue": 0.9}
        ),
        processing,
    ).gate()
    assert not verdict.registers
    assert (
        verdict.condition
        == "JsonGet(EvaluationReport, metrics.auc.value)=0.82 > 0.5 and JsonGet(EvaluationReport, metrics.auc.value)=0.82 > 0.9"
    )


@pytest.mark.parametrize(
    "condition, error",
    [
        ({"Type": "Between", "LeftValue": AUC, "RightValue": 1}, "condition type 'Between'"),
        (
            {"Type": "GreaterThan", "LeftValue": {"Std:JsonGet": {"PropertyFile": REPORT, "Path": "metrics.f1"}}, "RightValue": 1},
            "has no metrics.f1",
        ),
        (
            {
                "Type": "GreaterThan",
                "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Train.PropertyFiles.X"}, "Path": "a"}},
                "RightValue": 1,
            },
            "no step 'Train'",
        ),
        (
            {"Type": "GreaterThan", "LeftValue": {"Get": "Steps.Train.FinalMetricDataList"}, "RightValue": 1},
            "only pipeline parameters and property files",
        ),
    ],
)
def test_what_cannot_be_evaluated_is_an_error_not_a_pass(processing, condition, error):
    with pytest.raises(GateError, match=error):
        DefinitionEvaluator(definition(condition), processing).gate()


def test_the_preview_must_hold_exactly_one_pipeline(processing):
    with pytest.raises(GateError, match="declares 0 aws:sagemaker/pipeline:Pipeline resources"):
        evaluate_gate({"stack": "dev", "resources": []}, processing)
    preview = {
        "stack": "dev",
        "resources": [{"type": "aws:sagemaker/pipeline:Pipeline", "name": "p", "inputs": {"pipelineDefinition": json.dumps(definition())}}],
    }
    with pytest.raises(GateError, match="CheckAuc has no conditions"):
        evaluate_gate(preview, processing)


def test_execution_variables_resolve_only_when_the_caller_names_them(processing):
    """A step's arguments (the seal step's destination) use the execution id; the gate never does."""
    uri = {"Std:Join": {"On": "/", "Values": ["s3:/", "bucket", {"Get": "Execution.PipelineExecutionId"}, "model.tar.gz"]}}
    named = DefinitionEvaluator(definition(), processing, {"PipelineExecutionId": "rehearsal"})
    assert named.value(uri)[0] == "s3://bucket/rehearsal/model.tar.gz"
    with pytest.raises(GateError, match="Execution.PipelineExecutionId: only pipeline parameters and property files"):
        DefinitionEvaluator(definition(), processing).value(uri)
    with pytest.raises(GateError, match="Execution.StartDateTime"):
        named.value({"Get": "Execution.StartDateTime"})
