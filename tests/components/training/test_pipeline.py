"""The TrainingPipeline component as the real program declares it, under the preview's mocks."""

from __future__ import annotations

import json

import pytest
from config_testkit import of_records

from components.shared.container_image import context_hash
from tools.offline.records import ROOT, parse_json_input, stack_records

KEY = "aws:kms/key:Key"
TUNING = "training.tuning={maxJobs: 6, maxParallel: 2, ranges: {max_depth: {type: integer, min: 3, max: 8}, learning_rate: {type: continuous, min: 0.01, max: 0.3, scaling: Logarithmic}}}"


# The shipped prod stack trains nothing (it serves dev's registry, tests/components/training/test_registry.py): the
# component's prod settings are judged in a prod-environment stack that owns its registry.
PROD_OWNER = ("registry=null", "training={instanceType: ml.m5.xlarge, useSpot: false, schedule: 'cron(0 3 1 * ? *)', minAuc: 0.80}")


def owner_records(stack: str, *overrides: str):
    return stack_records(stack, *(PROD_OWNER if stack == "prod" else ()), *overrides)


@pytest.fixture(scope="module", params=["dev", "prod"])
def records(request):
    return owner_records(request.param)


def key_arn(records) -> str:
    return records.one(KEY)["state"]["arn"]


def bucket_parts(records, logical: str) -> dict[str, dict]:
    """The side-by-side resources of one SecureBucket, by type."""
    component = records.one("sagemaker-mlops:storage:SecureBucket", logical)
    return {r["type"]: r for r in records.children_of(component["urn"])}


def definition(records) -> dict:
    return json.loads(records.one("aws:sagemaker/pipeline:Pipeline")["inputs"]["pipelineDefinition"])


def statements(resource) -> dict[str, dict]:
    return {s["Sid"]: s for s in parse_json_input(resource["inputs"]["policy"])["Statement"]}


@pytest.mark.parametrize("logical", ["training-data", "training-artifacts"])
def test_buckets_are_encrypted_versioned_private_and_tls_only(records, logical):
    parts = bucket_parts(records, logical)
    [rule] = parts["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"]["inputs"]["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn(records)}
    assert rule["bucketKeyEnabled"] is True
    assert parts["aws:s3/bucketVersioning:BucketVersioning"]["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    block = parts["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"]["inputs"]
    assert all(block[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert parts["aws:s3/bucketOwnershipControls:BucketOwnershipControls"]["inputs"]["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    deny = statements(parts["aws:s3/bucketPolicy:BucketPolicy"])["DenyInsecureTransport"]
    bucket_arn = parts["aws:s3/bucket:Bucket"]["state"]["arn"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"} and deny["Action"] == ["s3:*"]
    assert deny["Resource"] == [bucket_arn, bucket_arn + "/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    [lifecycle] = parts["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"]["inputs"]["rules"]
    assert lifecycle["status"] == "Enabled" and lifecycle["noncurrentVersionExpiration"]["noncurrentDays"] == 30


def test_no_lifecycle_rule_expires_a_current_model_version(records):
    """Expiring a current version puts a delete marker on top, and If-None-Match looks only at the
    current version: a sealed key would take a new write. Only noncurrent versions expire."""
    rules = bucket_parts(records, "training-artifacts")["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"]["inputs"][
        "rules"
    ]
    assert rules and all(rule.get("expiration") is None for rule in rules)


def test_only_the_data_bucket_sends_events_to_eventbridge(records):
    assert bucket_parts(records, "training-data")["aws:s3/bucketNotification:BucketNotification"]["inputs"]["eventbridge"] is True
    assert "aws:s3/bucketNotification:BucketNotification" not in bucket_parts(records, "training-artifacts")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_force_destroy_only_in_dev_when_no_other_stack_serves_its_registry(stack):
    records = owner_records(stack)
    cfg = of_records(records)
    force_destroy = not (cfg.is_prod or cfg.registry_shared)  # tests/components/training/test_registry_protection.py
    # The pipeline's buckets; the dashboard's own follow the environment alone (test_streamlit_service.py).
    for name in ("training-data", "training-artifacts"):
        assert records.one("aws:s3/bucket:Bucket", name)["inputs"]["forceDestroy"] is force_destroy
    assert records.one("aws:ecr/repository:Repository", "training-model-image-repo")["inputs"]["forceDelete"] is force_destroy


def test_model_repository_is_immutable_scanned_and_encrypted(records):
    repo = records.one("aws:ecr/repository:Repository", "training-model-image-repo")
    env = records.data["config"]["sagemaker-mlops:environment"]
    assert repo["inputs"]["name"] == f"mlops-{env}-model"
    assert repo["inputs"]["imageTagMutability"] == "IMMUTABLE"
    assert repo["inputs"]["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["inputs"]["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key_arn(records)}]


def test_no_lifecycle_rule_can_expire_an_image_a_model_version_references(records):
    """Model packages pin the image by digest; a count-based rule over tagged images would delete
    the image of an old approved version that prod may still serve or roll back to."""
    for name in ("training-model-image-lifecycle", "dashboard-image-lifecycle"):
        rules = json.loads(records.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", name)["inputs"]["policy"])["rules"]
        assert [rule["selection"]["tagStatus"] for rule in rules] == ["untagged"], name
        assert rules[0]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}
        assert rules[0]["action"] == {"type": "expire"}


def test_model_image_is_built_for_amd64_tagged_by_content_and_pushed_with_ecr_credentials(records):
    image = records.one("docker:index/image:Image", "training-model-image-image")
    build = image["inputs"]["build"]
    assert build["context"] == "containers/model" and build["platform"] == "linux/amd64"
    assert build["dockerfile"] == "containers/model/Dockerfile"
    assert image["inputs"]["imageName"].endswith(":" + context_hash(ROOT / "containers" / "model"))
    assert image["inputs"]["registry"]["username"] == "AWS"


def test_context_hash_changes_with_the_code(tmp_path):
    (tmp_path / "a.py").write_text("print(1)\n")
    first = context_hash(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"x")
    assert context_hash(tmp_path) == first  # byte-code is not part of the image
    (tmp_path / "a.py").write_text("print(2)\n")
    assert context_hash(tmp_path) != first


def test_everything_downstream_uses_the_image_by_digest(records):
    digest_uri = records.one("docker:index/image:Image", "training-model-image-image")["state"]["repoDigest"]
    assert "@sha256:" in digest_uri
    steps = {s["Name"]: s for s in definition(records)["Steps"]}
    assert steps["Preprocess"]["Arguments"]["AppSpecification"]["ImageUri"] == digest_uri
    assert steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"] == digest_uri
    assert records.outputs["modelImageUri"] == digest_uri
    assert ":latest" not in json.dumps(definition(records))


def test_execution_role_is_least_privilege(records):
    role = records.one("aws:iam/role:Role", "training-execution-role")
    trust = parse_json_input(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    attachments = [
        a for a in records.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a["inputs"]["role"] == role["state"]["name"]
    ]
    assert attachments == [] and "managedPolicyArns" not in role["inputs"]  # no managed policies at all
    policy = statements(records.one("aws:iam/rolePolicy:RolePolicy", "training-execution-policy"))
    data = bucket_parts(records, "training-data")["aws:s3/bucket:Bucket"]["state"]["arn"]
    artifacts = bucket_parts(records, "training-artifacts")["aws:s3/bucket:Bucket"]["state"]["arn"]
    assert policy["ListProjectBuckets"]["Resource"] == [data, artifacts]
    assert policy["ReadWriteProjectObjects"]["Resource"] == [data + "/*", artifacts + "/*"]
    assert policy["UseProjectKey"]["Resource"] == [key_arn(records)]
    assert policy["GrantKeyToSageMakerVolumes"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert policy["PullModelImage"]["Resource"] == [
        records.one("aws:ecr/repository:Repository", "training-model-image-repo")["state"]["arn"]
    ]
    group = records.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup")["inputs"]["modelPackageGroupName"]
    assert policy["RegisterModelVersions"]["Resource"] == [
        f"arn:aws:sagemaker:us-east-1:123456789012:model-package-group/{group}",
        f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/*",
    ]
    assert policy["PassOwnRoleToSageMakerJobs"]["Resource"] == [role["state"]["arn"]]
    assert policy["PassOwnRoleToSageMakerJobs"]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    for sid, s in policy.items():
        assert not any(a == "*" or a.endswith(":*") for a in s["Action"]), sid
        if s["Resource"] == ["*"]:  # only for actions AWS cannot scope, and conditioned where it can
            assert s["Action"] in (["ecr:GetAuthorizationToken"], ["cloudwatch:PutMetricData"]), sid
            if s["Action"] == ["cloudwatch:PutMetricData"]:
                assert "cloudwatch:namespace" in s["Condition"]["StringLike"]


def test_eventbridge_role_may_only_start_this_pipeline(records):
    role = records.one("aws:iam/role:Role", "training-events-role")
    assert parse_json_input(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    [only] = statements(records.one("aws:iam/rolePolicy:RolePolicy", "training-events-policy")).values()
    assert only["Action"] == ["sagemaker:StartPipelineExecution"]
    assert only["Resource"] == [records.one("aws:sagemaker/pipeline:Pipeline")["state"]["arn"]]


def test_model_package_group_and_pipeline(records):
    env = records.data["config"]["sagemaker-mlops:environment"]
    group = records.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert group["inputs"]["modelPackageGroupName"] == f"mlops-{env}-churn"
    pipeline = records.one("aws:sagemaker/pipeline:Pipeline")
    assert pipeline["inputs"]["pipelineName"] == f"mlops-{env}-training"
    assert pipeline["inputs"]["roleArn"] == records.one("aws:iam/role:Role", "training-execution-role")["state"]["arn"]


def test_pipeline_steps_in_order(records):
    steps = [(s["Name"], s["Type"]) for s in definition(records)["Steps"]]
    assert steps == [
        ("Preprocess", "Processing"),
        ("DataQualityBaseline", "QualityCheck"),
        ("Train", "Training"),
        ("Evaluate", "Processing"),
        ("CheckAuc", "Condition"),
    ]
    condition = definition(records)["Steps"][-1]["Arguments"]
    assert [(s["Name"], s["Type"]) for s in condition["IfSteps"]] == [
        ("SealModel", "Processing"),
        ("RegisterModel", "RegisterModel"),
        ("PublishBaseline", "Processing"),
    ]
    assert [s["Type"] for s in condition["ElseSteps"]] == ["Fail"]


@pytest.mark.parametrize("stack, min_auc", [("dev", 0.75), ("prod", 0.80)])
def test_condition_threshold_is_the_stacks_min_auc(stack, min_auc):
    [condition] = definition(owner_records(stack))["Steps"][-1]["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo" and condition["RightValue"] == min_auc
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "binary_classification_metrics.auc.value"


@pytest.mark.parametrize("stack, spot", [("dev", True), ("prod", False)])
def test_spot_and_checkpoints_only_when_configured(stack, spot):
    train = next(s for s in definition(owner_records(stack))["Steps"] if s["Name"] == "Train")["Arguments"]
    assert train.get("EnableManagedSpotTraining", False) is spot
    assert ("CheckpointConfig" in train) is spot
    assert ("MaxWaitTimeInSeconds" in train["StoppingCondition"]) is spot
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == key_arn(owner_records(stack))
    assert train["OutputDataConfig"]["KmsKeyId"] == key_arn(owner_records(stack))


def test_tuning_replaces_the_training_step_when_configured():
    steps = {s["Name"]: s for s in definition(owner_records("prod", TUNING))["Steps"]}
    assert "Train" not in steps and steps["Tune"]["Type"] == "Tuning"
    tuning = steps["Tune"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert tuning["Strategy"] == "Bayesian" and tuning["TrainingJobEarlyStoppingType"] == "Auto"
    assert tuning["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert tuning["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2}


def test_schedule_and_new_data_trigger_the_pipeline(records):
    pipeline_arn = records.one("aws:sagemaker/pipeline:Pipeline")["state"]["arn"]
    schedule = records.one("aws:cloudwatch/eventRule:EventRule", "training-schedule")
    assert schedule["inputs"]["scheduleExpression"] == records.data["config"]["sagemaker-mlops:training"]["schedule"]
    pattern = json.loads(records.one("aws:cloudwatch/eventRule:EventRule", "training-new-data")["inputs"]["eventPattern"])
    data_bucket = bucket_parts(records, "training-data")["aws:s3/bucket:Bucket"]["state"]["bucket"]
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [data_bucket]}, "object": {"key": [{"prefix": "incoming/"}]}},
    }
    events_role = records.one("aws:iam/role:Role", "training-events-role")["state"]["arn"]
    dlq = records.one("aws:sqs/queue:Queue")
    assert dlq["inputs"]["kmsMasterKeyId"] == key_arn(records)
    for key in ("schedule", "new-data"):
        target = records.one("aws:cloudwatch/eventTarget:EventTarget", f"training-{key}-target")["inputs"]
        assert target["arn"] == pipeline_arn and target["roleArn"] == events_role
        assert target["deadLetterConfig"] == {"arn": dlq["state"]["arn"]}


def test_drift_alarm_starts_retraining_where_model_monitor_runs():
    prod = owner_records("prod")
    alarm = prod.one("aws:cloudwatch/metricAlarm:MetricAlarm", "endpoint-drift-alarm")
    pattern = json.loads(prod.one("aws:cloudwatch/eventRule:EventRule", "training-drift")["inputs"]["eventPattern"])
    assert pattern["detail"] == {"alarmName": [alarm["inputs"]["name"]], "state": {"value": ["ALARM"]}}
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    target = prod.one("aws:cloudwatch/eventTarget:EventTarget", "training-drift-target")["inputs"]
    assert target["arn"] == prod.one("aws:sagemaker/pipeline:Pipeline")["state"]["arn"]
    # dev's serverless endpoint has no Model Monitor, so nothing to trigger on.
    assert [r for r in stack_records("dev").of_type("aws:cloudwatch/eventRule:EventRule") if r["name"] == "training-drift"] == []


def test_failed_runs_and_approvals_notify_the_alarm_topic(records):
    topic = records.one("aws:sns/topic:Topic")["state"]["arn"]
    failed = json.loads(records.one("aws:cloudwatch/eventRule:EventRule", "training-failed-notice")["inputs"]["eventPattern"])
    assert failed["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    assert failed["detail"]["pipelineArn"] == [records.one("aws:sagemaker/pipeline:Pipeline")["state"]["arn"]]
    for key in ("failed", "approved"):
        target = records.one("aws:cloudwatch/eventTarget:EventTarget", f"training-{key}-notice-target")["inputs"]
        assert target["arn"] == topic and "inputTransformer" in target


def test_dead_letter_queue_accepts_only_these_rules(records):
    [send] = statements(records.one("aws:sqs/queuePolicy:QueuePolicy")).values()
    rule_arns = sorted(r["state"]["arn"] for r in records.of_type("aws:cloudwatch/eventRule:EventRule") if "notice" not in r["name"])
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(send["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arns


def test_outputs(records):
    for key in (
        "pipelineName",
        "pipelineArn",
        "modelPackageGroupName",
        "modelPackageGroupArn",
        "dataBucket",
        "artifactBucket",
        "modelImageUri",
    ):
        assert records.outputs[key], key
