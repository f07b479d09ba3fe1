"""One registry consumed by reference: dev owns it, prod serves the very package ARN dev serves."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.offline.records import ROOT, Records, parse_json_input, stack_records
from tools.offline.stack_files import stack_config

CONSUMER = "210987654321"
OWNER_ELSEWHERE = "111122223333"


def run_preview(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.preview", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("registry") / "{stack}.json"
    done = run_preview("--stack", "dev", "--stack", "prod", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return {s: json.loads(Path(str(out).replace("{stack}", s)).read_text()) for s in ("dev", "prod")}


def pin(stack: str) -> int:
    """The model package version a stack file pins: whatever the last promotion set."""
    return stack_config(ROOT, stack)["sagemaker-mlops:endpoint"]["modelPackageVersion"]


def of_type(result: dict, type_: str) -> list[dict]:
    return [r for r in result["resources"] if r["type"] == type_]


def test_prod_serves_the_package_arn_dev_serves_through_the_stack_reference(both):
    dev, prod = both["dev"], both["prod"]
    served = dev["outputs"]["modelPackageArn"]
    assert served == f"arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/{pin('dev')}"
    # prod serves its own pin from dev's group (the registry dev's outputs name): the very ARN dev
    # serves once the prod promotion lands, its previous one while a dev promotion is under way.
    expected = f"{served.rsplit('/', 1)[0]}/{pin('prod')}"
    [model] = of_type(prod, "aws:sagemaker/model:Model")
    assert model["inputs"]["primaryContainer"]["modelPackageName"] == expected
    assert prod["outputs"]["modelPackageArn"] == expected
    if pin("prod") == pin("dev"):
        assert expected == served
    [reference] = of_type(prod, "pulumi:pulumi:StackReference")
    assert reference["name"] == "organization/sagemaker-mlops/dev"


def test_only_the_owner_declares_a_pipeline_and_a_group(both):
    assert len(of_type(both["dev"], "aws:sagemaker/pipeline:Pipeline")) == 1
    assert len(of_type(both["dev"], "aws:sagemaker/modelPackageGroup:ModelPackageGroup")) == 1
    for type_ in ("aws:sagemaker/pipeline:Pipeline", "aws:sagemaker/modelPackageGroup:ModelPackageGroup"):
        assert of_type(both["prod"], type_) == [], type_
    assert [r["inputs"]["name"] for r in of_type(both["prod"], "aws:ecr/repository:Repository")] == [
        "mlops-prod-dashboard"
    ]  # no model image


def test_the_owner_exports_the_registry_coordinates(both):
    outputs = both["dev"]["outputs"]
    assert outputs["region"] == "us-east-1" and outputs["accountId"] == "123456789012"
    assert outputs["modelPackageGroupName"] == "mlops-dev-churn" and outputs["pipelineName"] == "mlops-dev-training"
    for key in (
        "modelPackageGroupArn",
        "pipelineArn",
        "artifactBucket",
        "artifactBucketArn",
        "modelImageUri",
        "modelRepositoryArn",
        "kmsKeyArn",
    ):
        assert outputs[key], key
    assert outputs["modelPackageVersion"] == pin("dev")


def test_prods_endpoint_reads_the_registry_and_writes_capture_to_its_own_bucket(both):
    dev, prod = both["dev"]["outputs"], both["prod"]
    [config] = of_type(prod, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    own_bucket = prod["outputs"]["endpointDataBucket"]
    assert config["inputs"]["dataCaptureConfig"]["destinationS3Uri"].startswith(f"s3://{own_bucket}/")
    [job] = of_type(prod, "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    baseline = job["inputs"]["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"]
    assert baseline.startswith(f"s3://{dev['artifactBucket']}/baselines/mlops-dev-churn/{pin('prod')}/")
    policy = parse_json_input(
        next(r for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if r["name"] == "endpoint-role-policy")["inputs"]["policy"]
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["DecryptRegistryArtifacts"]["Resource"] == [dev["kmsKeyArn"]]
    assert by_sid["ReadPinnedModelPackage"]["Resource"] == ["arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-dev-churn/*"]


def test_prods_drift_alarm_starts_the_owners_pipeline_same_account(both):
    dev, prod = both["dev"]["outputs"], both["prod"]
    [target] = [t for t in of_type(prod, "aws:cloudwatch/eventTarget:EventTarget") if t["name"] == "retraining-target"]
    assert target["inputs"]["arn"] == dev["pipelineArn"]
    [rule] = [r for r in of_type(prod, "aws:cloudwatch/eventRule:EventRule") if r["name"] == "retraining-rule"]
    assert json.loads(rule["inputs"]["eventPattern"])["detail"]["alarmName"] == ["mlops-prod-endpoint-drift"]
    [policy] = [p for p in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if p["name"] == "retraining-role-policy"]
    assert parse_json_input(policy["inputs"]["policy"])["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["sagemaker:StartPipelineExecution"],
            "Resource": [dev["pipelineArn"]],
            "Sid": "StartOwnersPipelineOnly",
        }
    ]


@pytest.fixture(scope="module")
def cross_account_prod(both, tmp_path_factory) -> dict:
    """prod in its own account: the owner's outputs name another account."""
    outputs = {k: (v.replace("123456789012", OWNER_ELSEWHERE) if isinstance(v, str) else v) for k, v in both["dev"]["outputs"].items()}
    outputs["accountId"] = OWNER_ELSEWHERE
    folder = tmp_path_factory.mktemp("cross")
    (folder / "dev.json").write_text(json.dumps(outputs))
    done = run_preview("--stack", "prod", "--stack-outputs", f"dev={folder / 'dev.json'}", "--json", str(folder / "prod.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((folder / "prod.json").read_text())


def test_cross_account_prod_serves_the_owners_arn_and_sends_drift_to_the_owners_bus(cross_account_prod):
    prod = cross_account_prod
    [model] = of_type(prod, "aws:sagemaker/model:Model")
    assert (
        model["inputs"]["primaryContainer"]["modelPackageName"]
        == f"arn:aws:sagemaker:us-east-1:{OWNER_ELSEWHERE}:model-package/mlops-dev-churn/{pin('prod')}"
    )
    bus = f"arn:aws:events:us-east-1:{OWNER_ELSEWHERE}:event-bus/default"
    [target] = [t for t in of_type(prod, "aws:cloudwatch/eventTarget:EventTarget") if t["name"] == "retraining-target"]
    assert target["inputs"]["arn"] == bus and target["inputs"]["roleArn"]
    [policy] = [p for p in of_type(prod, "aws:iam/rolePolicy:RolePolicy") if p["name"] == "retraining-role-policy"]
    [only] = parse_json_input(policy["inputs"]["policy"])["Statement"]
    assert only["Action"] == ["events:PutEvents"] and only["Resource"] == [bus]


@pytest.fixture(scope="module")
def sharing_owner() -> Records:
    return stack_records("dev", f'registry.consumerAccounts=["{CONSUMER}"]')


def test_the_owner_grants_consumer_accounts_only_what_serving_needs(sharing_owner):
    root = {"AWS": [f"arn:aws:iam::{CONSUMER}:root"]}
    group_policy = parse_json_input(
        sharing_owner.one("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy")["inputs"]["resourcePolicy"]
    )
    actions = sorted(a for s in group_policy["Statement"] for a in s["Action"])
    assert actions == [
        "sagemaker:CreateModel",
        "sagemaker:DescribeModelPackage",
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:ListModelPackages",
    ]
    assert all(s["Principal"] == root for s in group_policy["Statement"])
    repo_policy = parse_json_input(sharing_owner.one("aws:ecr/repositoryPolicy:RepositoryPolicy")["inputs"]["policy"])
    assert repo_policy["Statement"][0]["Action"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    bucket_policy = next(
        parse_json_input(p["inputs"]["policy"])
        for p in sharing_owner.of_type("aws:s3/bucketPolicy:BucketPolicy")
        if p["name"] == "training-artifacts-policy"
    )
    [grant] = [s for s in bucket_policy["Statement"] if s.get("Sid") == "ConsumerAccountsReadModelsAndBaselines"]
    assert grant["Action"] == ["s3:GetObject"] and grant["Principal"] == root
    assert [r.split("/", 1)[1] for r in grant["Resource"]] == ["pipelines/mlops-dev-training/*", "baselines/mlops-dev-churn/*"]
    # The sealed model RegisterModel names (its ModelDataUrl, for one execution) is among what consumers read.
    definition = json.loads(sharing_owner.one("aws:sagemaker/pipeline:Pipeline")["inputs"]["pipelineDefinition"])
    [register] = [s for s in definition["Steps"][-1]["Arguments"]["IfSteps"] if s["Type"] == "RegisterModel"]
    join = register["Arguments"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]["Std:Join"]
    sealed = "/".join(v if isinstance(v, str) else "exec-1" for v in join["Values"]).replace("s3://", "arn:aws:s3:::")
    assert "/registered/exec-1/model.tar.gz" in sealed and fnmatch.fnmatchcase(sealed, grant["Resource"][0])
    key_policy = parse_json_input(sharing_owner.one("aws:kms/key:Key")["inputs"]["policy"])
    [kms] = [s for s in key_policy["Statement"] if s.get("Sid") == "ConsumerAccountsDecryptModelsThroughS3AndEcr"]
    assert kms["Action"] == ["kms:Decrypt", "kms:DescribeKey"] and kms["Principal"] == root
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com", "ecr.us-east-1.amazonaws.com"]}}


def test_the_owner_retrains_on_a_consumer_accounts_drift_events(sharing_owner):
    # A statement of its own on the default bus (PutPermission), never the whole bus policy (EventBusPolicy).
    assert sharing_owner.of_type("aws:cloudwatch/eventBusPolicy:EventBusPolicy") == []
    [permission] = sharing_owner.of_type("aws:cloudwatch/eventPermission:EventPermission")
    inputs = permission["inputs"]
    assert (inputs["principal"], inputs["action"], inputs["eventBusName"]) == (CONSUMER, "events:PutEvents", "default")
    assert inputs["statementId"] == f"mlops-dev-drift-alarms-from-{CONSUMER}"
    rule = sharing_owner.one("aws:cloudwatch/eventRule:EventRule", "training-consumer-drift")
    pattern = json.loads(rule["inputs"]["eventPattern"])
    assert pattern["account"] == [CONSUMER] and pattern["detail"]["alarmName"] == [{"suffix": "-endpoint-drift"}]
    target = sharing_owner.one("aws:cloudwatch/eventTarget:EventTarget", "training-consumer-drift-target")
    assert target["inputs"]["arn"] == sharing_owner.outputs["pipelineArn"]


def test_no_consumer_accounts_no_grants():
    dev = stack_records("dev")
    for type_ in (
        "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
        "aws:ecr/repositoryPolicy:RepositoryPolicy",
        "aws:cloudwatch/eventBusPolicy:EventBusPolicy",
        "aws:cloudwatch/eventPermission:EventPermission",
    ):
        assert dev.of_type(type_) == [], type_


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["registry.stack=dev"], 'sagemaker-mlops:registry.stack = "dev": String should match pattern'),
        (
            ["registry.stack=acme/other-project/dev"],
            "sagemaker-mlops:registry.stack = \"acme/other-project/dev\": names project 'other-project'",
        ),
        (["registry.stack=organization/sagemaker-mlops/prod"], "names this stack"),
        (
            [f'registry.consumerAccounts=["{CONSUMER}"]'],
            "sagemaker-mlops:registry.consumerAccounts: only valid on the stack that owns the registry",
        ),
        (["registry.colour=blue"], "sagemaker-mlops:registry.colour: unknown key; allowed keys: stack, consumerAccounts"),
        (
            ["training.instanceType=ml.m5.large", "training.useSpot=false", "training.schedule=rate(1 day)", "training.minAuc=0.8"],
            "sagemaker-mlops:training: only valid on the stack that owns the registry",
        ),
    ],
)
def test_invalid_registry_config_exits_2_naming_the_key(overrides, expected):
    args = ["--stack", "prod", "--stack-outputs", f"dev={ROOT / 'tests' / 'data' / 'dev-outputs.json'}"]
    for o in overrides:
        args += ["--set", o]
    done = run_preview(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stdout and "Traceback" not in done.stdout


def test_consumer_account_ids_must_be_quoted_12_digit_strings():
    done = run_preview("--stack", "dev", "--set", "registry.consumerAccounts=[210987654321, abc]")
    assert done.returncode == 2
    assert "sagemaker-mlops:registry.consumerAccounts[0] = 210987654321" in done.stdout
    assert "Input should be a valid string; expected a list of 12-digit AWS account ids, quoted" in done.stdout
    assert 'sagemaker-mlops:registry.consumerAccounts[1] = "abc": String should match pattern' in done.stdout
