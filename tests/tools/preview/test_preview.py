"""The offline preview end to end: real program, real policy pack over the Analyzer protocol."""

from __future__ import annotations

import json
import shutil

import pytest
from program_testkit import copy_program, preview

from tools.offline.records import ROOT


def test_shipped_stacks_pass_with_exit_0(shipped_previews):
    done, _ = shipped_previews
    assert done.returncode == 0, done.stdout + done.stderr
    for stack in ("dev", "prod"):
        assert f"{stack}: OK:" in done.stdout
    assert "Policies (sagemaker-mlops-guardrails@v0.1.0, config policies/config/dev.json)" in done.stdout


def test_preview_prints_the_resource_tree_and_counts(shipped_previews):
    done, results = shipped_previews
    assert " +   pulumi:pulumi:Stack" in done.stdout and "sagemaker-mlops-prod" in done.stdout
    assert "├─ aws:kms/key:Key" in done.stdout and "foundation-key" in done.stdout
    total = len(results["prod"]["resources"])
    assert f"{total:>3} total" in done.stdout


def test_json_has_the_documented_shape(shipped_previews):
    _, results = shipped_previews
    prod = results["prod"]
    assert set(prod) >= {"stack", "project", "resources", "outputs", "violations", "summary"}
    assert prod["stack"] == "prod" and prod["project"] == "sagemaker-mlops"
    key = next(r for r in prod["resources"] if r["type"] == "aws:kms/key:Key")
    assert set(key) == {"urn", "type", "name", "parent", "inputs", "options"}
    assert key["inputs"]["enableKeyRotation"] is True
    assert key["urn"] == "urn:pulumi:prod::sagemaker-mlops::sagemaker-mlops:foundation:Foundation$aws:kms/key:Key::foundation-key"
    assert key["parent"].endswith("sagemaker-mlops:foundation:Foundation::foundation")
    assert key["options"]["provider"].startswith("urn:pulumi:prod::sagemaker-mlops::pulumi:providers:aws::aws::")
    assert prod["outputs"]["vpcId"].startswith("vpc-")
    # The only finding: cost-estimate's advisory statement of the estimate (for the real CLI).
    assert [v["policy"] for v in prod["violations"]] == ["cost-estimate"] and prod["summary"]["ok"] is True
    assert prod["summary"]["judgedOnlyAtUp"] == 0  # every value is known in a preview of an existing stack
    assert prod["summary"]["resources"] == len(prod["resources"])


def test_a_program_that_adds_an_unencrypted_topic_is_blocked(tmp_path):
    program = copy_program(tmp_path)
    with (program / "__main__.py").open("a") as main:
        main.write('\naws.sns.Topic("unencrypted-topic", opts=with_provider)\n')
    out = tmp_path / "result.json"
    done = preview("--stack", "prod", "--program-dir", str(program), "--json", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    urn = "urn:pulumi:prod::sagemaker-mlops::aws:sns/topic:Topic::unencrypted-topic"
    assert "❌ sns-topic-encrypted [mandatory]: 1 finding" in done.stdout
    assert urn in done.stdout and "Set kms_master_key_id" in done.stdout
    assert "prod: BLOCKED" in done.stdout
    [violation] = [v for v in json.loads(out.read_text())["violations"] if v["policy"] != "cost-estimate"]
    assert violation["policy"] == "sns-topic-encrypted" and violation["level"] == "mandatory" and violation["urn"] == urn


def test_a_resource_outside_the_tagged_provider_is_blocked(tmp_path):
    program = copy_program(tmp_path)
    with (program / "__main__.py").open("a") as main:
        main.write('\naws.kms.Key("untagged-key", enable_key_rotation=False)\n')
    done = preview("--stack", "dev", "--program-dir", str(program))
    assert done.returncode == 1
    assert "❌ kms-key-rotation [mandatory]: 1 finding" in done.stdout
    assert "❌ required-tags [mandatory]: 1 finding" in done.stdout
    assert "missing required tags: Project, Environment, Owner, CostCenter, ManagedBy" in done.stdout


def test_enforcement_levels_come_from_the_policy_config(tmp_path):
    program = copy_program(tmp_path)
    with (program / "__main__.py").open("a") as main:
        main.write('\naws.kms.Key("slow-key", enable_key_rotation=False, opts=with_provider)\n')
    config = tmp_path / "policy.json"
    # dev's own file keeps its release/HA guardrails advisory; only kms-key-rotation changes here.
    dev = json.loads((ROOT / "policies" / "config" / "dev.json").read_text())
    config.write_text(json.dumps({**dev, "kms-key-rotation": "advisory"}))
    done = preview("--stack", "dev", "--program-dir", str(program), "--policy-config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "⚠️  kms-key-rotation [advisory]: 1 finding" in done.stdout
    config.write_text(json.dumps({**dev, "kms-key-rotation": {"enforcementLevel": "disabled"}}))
    done = preview("--stack", "dev", "--program-dir", str(program), "--policy-config", str(config))
    assert done.returncode == 0 and "○ kms-key-rotation [disabled]\n" in done.stdout


def test_policy_config_values_reach_the_policies(tmp_path):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"required-tags": {"requiredTags": ["DataClassification"]}}))
    done = preview("--stack", "prod", "--policy-config", str(config))
    assert done.returncode == 1
    assert "missing required tags: DataClassification" in done.stdout


def test_invalid_policy_config_is_an_error_naming_the_problem(tmp_path):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"required-tags": {"requiredTags": "Owner"}}))
    done = preview("--stack", "dev", "--policy-config", str(config))
    assert done.returncode == 2
    assert "policy config for 'required-tags': requiredTags: 'Owner' is not of type 'array'" in done.stdout
    config.write_text(json.dumps({"no-such-policy": "mandatory"}))
    done = preview("--stack", "dev", "--policy-config", str(config))
    assert done.returncode == 2 and "unknown policies: no-such-policy" in done.stdout


def test_invalid_config_exits_2_naming_the_key_without_a_traceback():
    done = preview("--stack", "prod", "--set", "network.azCount=7", "--set", "endpoint.dataCapturePercent=-1")
    assert done.returncode == 2
    assert "sagemaker-mlops:network.azCount = 7" in done.stdout
    assert "sagemaker-mlops:endpoint.dataCapturePercent = -1" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_program_error_exits_2_with_a_clear_message(tmp_path):
    program = copy_program(tmp_path)
    with (program / "__main__.py").open("a") as main:
        main.write('\nraise ValueError("the bucket name is too long")\n')
    done = preview("--stack", "dev", "--program-dir", str(program))
    assert done.returncode == 2
    assert "the program failed: ValueError: the bucket name is too long" in done.stdout
    assert "Traceback" not in done.stdout
    debug = preview("--stack", "dev", "--program-dir", str(program), "--debug")
    assert "Traceback" in debug.stdout


def test_unknown_stack_and_bad_override_exit_2():
    done = preview("--stack", "staging")
    assert done.returncode == 2 and "no stack 'staging'" in done.stdout
    done = preview("--stack", "dev", "--set", "network.azCount")
    assert done.returncode == 2 and "expected key=value" in done.stdout


def test_a_broken_policy_pack_is_an_error(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "policies", pack, ignore=shutil.ignore_patterns("__pycache__"))
    (pack / "__main__.py").write_text('print("hello")\n' + (pack / "__main__.py").read_text())
    done = preview("--stack", "dev", "--policy-pack", str(pack))
    assert done.returncode == 2 and "did not start" in done.stdout


@pytest.mark.parametrize("stack", ["dev"])
def test_an_open_prediction_route_is_blocked_in_every_stack(tmp_path, stack):
    """A careless edit that opens POST /predict (dev used to ship it open) blocks dev too; prod's
    case is the OPEN_ROUTE row of tests/policies/real_program_cases.py."""
    program = copy_program(tmp_path)
    http = program / "components" / "api" / "http_api.py"
    source = http.read_text()
    assert "authorization_type=ROUTE_AUTHORIZATION," in source
    http.write_text(source.replace("authorization_type=ROUTE_AUTHORIZATION,", 'authorization_type="NONE",'))
    out = tmp_path / "result.json"
    done = preview("--stack", stack, "--program-dir", str(program), "--json", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    urn = f"urn:pulumi:{stack}::sagemaker-mlops::sagemaker-mlops:api:CanaryApi$aws:apigatewayv2/route:Route::api-route"
    found = [v for v in json.loads(out.read_text())["violations"] if v["policy"] == "apigateway-route-authorization"]
    assert [(v["level"], v["urn"]) for v in found] == [("mandatory", urn)]
    assert "accepts unauthenticated requests (authorization NONE)" in found[0]["message"]
    assert f"{stack}: BLOCKED" in done.stdout


def test_shipped_placeholders_are_an_advisory_line_not_a_failure(shipped_previews):
    from config_testkit import parse, shipped

    from components.config.placeholders import placeholder_problems

    done, results = shipped_previews
    assert done.returncode == 0
    flagged = 0
    for stack in ("dev", "prod"):
        expected = placeholder_problems(parse(shipped(stack), stack))
        assert results[stack]["summary"]["placeholders"] == expected and results[stack]["summary"]["ok"] is True
        for problem in expected:
            assert f"    ⚠️  {problem}" in done.stdout
        if expected:
            assert f"{len(expected)} placeholder(s) that `pulumi up` refuses" in done.stdout
        flagged += len(expected)
    assert flagged, "the shipped stacks hold placeholders (prod's dashboard domain): this test must see one"


def test_config_aws_refuses_exits_2_naming_each_key():
    done = preview(
        "--stack", "dev", "--set", "training.instanceType=ml.m5.lrage", "--set", "training.schedule=cron(0 3 1 * * *)",
        "--set", "sagemaker-mlop:notificationEmail=a@corp.io",
    )  # fmt: skip
    assert done.returncode == 2
    assert 'sagemaker-mlops:training.instanceType = "ml.m5.lrage": not a SageMaker instance type for training' in done.stdout
    assert 'sagemaker-mlops:training.schedule = "cron(0 3 1 * * *)": cron needs ? in exactly one' in done.stdout
    assert "sagemaker-mlop:notificationEmail: unknown namespace 'sagemaker-mlop'" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
