"""The closed promotion loop rehearsed in moto (part of `make demo`; alone: `python -m tools.rehearsal.loop`).

1. Approval -> dev PR: the pipeline's run registers version 2 (evaluation report, the model sealed
   under pipelines/<pipeline>/registered/ by the model image's own seal code, with the SHA-256 and S3
   version it reported, image digest, pipeline execution), a person approves it;
   `--to dev --approved` pins it and writes the pull request body (metrics, lineage, approver).
2. dev serves version 2 (a moto endpoint) and its health goes to CloudWatch (put_metric_data: hourly
   invocations, 5XX errors, p99 latency, the drift alarm's feature metrics; Model Monitor's report in
   S3), on a simulated clock `promotion.soakHours` ahead of the endpoint's creation.
3. `--to prod --soak` reads it back (get_metric_data, DescribeAlarms, S3): with a fault injected
   (errors, latency, drift, quality) the promotion is refused naming the SLO; clean, prod pins the
   identical ARN with the evidence table, and the deploy's `--check-evidence prod` and `--verify
   prod` (the sealed object still has the recorded bytes and version) accept it.
4. Merged, not deployed: prod pins version 2 while its deploy waits for the `production` approval
   (prod's endpoint serves version 1, no configuration was built for 2): `--restore prod` opens no
   pull request. Then the deploy runs and prod's release is rolled back by its 5XX alarm (the
   endpoint serves version 1; the configuration built for 2 is tagged as EndpointRelease tags it),
   and so is the release of the API's new code (a commit after the shipped one): CodeDeploy stopped
   it on the API's 5xx alarm and the `live` alias stays on the version running the shipped code.
   `--restore prod` writes one pull request that pins what serves and writes containers/api back to
   the shipped commit's content, naming the alarms, the rolled-back configuration and the
   deployment (the rehearsal's own copy of the folder).
5. Emergency rollback: `--rollback prod` puts prod back on version 1 without a soak; the deploy's
   evidence check accepts it because prod pinned version 1 before (Git history).

moto gaps bridged here, and only here: CloudWatch percentiles (moto answers None for `p99`: the
percentile is computed from the datapoints moto stored), `list_pipeline_execution_steps` (not
implemented: the training step of the execution is answered from the training job created in moto)
and CodeDeploy's account of a rolled-back deployment (moto keeps deployments `Created`: botocore's
Stubber answers it, validated against the service model; tools/rehearsal/rolled_back.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional
from unittest import mock

FAULTS = ("errors", "latency", "drift", "quality")
REGION, ACCOUNT = "us-east-1", "123456789012"
GROUP, ENDPOINT, PROD_ENDPOINT, VARIANT = "mlops-dev-churn", "mlops-dev-churn", "mlops-prod-churn", "AllTraffic"
BUCKET = "mlops-dev-artifacts"
MODEL_BYTES = b"model bytes"
# Where the run's SealModel step writes the model it registers (components/training/definition/layout.py).
SEALED_MODEL = f"s3://{BUCKET}/pipelines/mlops-dev-training/registered/rehearsal01/model.tar.gz"
DRIFT_ALARM = "mlops-dev-endpoint-drift"
PROD_5XX_ALARM = "mlops-prod-churn-5xx"
API_ALARMS = ("mlops-prod-predict-new-version-errors", "mlops-prod-predict-duration-p99", "mlops-prod-predict-api-5xx")
FEATURES = ("tenure", "monthly_charges", "support_calls")
EXECUTION = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/mlops-dev-training/execution/rehearsal01"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
    "AWS_DEFAULT_REGION": REGION,
}


@dataclass
class LoopResult:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)
    refusal: str = ""


# ---- the two moto gaps ----------------------------------------------------------------------------


class PercentileCloudWatch:
    """moto's CloudWatch, with `pNN` statistics computed from the datapoints moto stored (nearest rank)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_metric_data(
        self, MetricDataQueries: list[dict[str, Any]], StartTime: datetime, EndTime: datetime, **kwargs: Any
    ) -> dict[str, Any]:
        percentile = [q for q in MetricDataQueries if q.get("MetricStat", {}).get("Stat", "").startswith("p")]
        rest = [q for q in MetricDataQueries if q not in percentile]
        results = (
            self._client.get_metric_data(MetricDataQueries=rest, StartTime=StartTime, EndTime=EndTime, **kwargs)["MetricDataResults"]
            if rest
            else []
        )
        return {"MetricDataResults": [*results, *(self._percentile(q, StartTime, EndTime) for q in percentile)]}

    def _percentile(self, query: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
        from moto.cloudwatch.models import cloudwatch_backends

        stat = query["MetricStat"]
        metric, period, rank = stat["Metric"], stat["Period"], float(stat["Stat"][1:])
        wanted = {(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])}
        buckets: dict[int, list[float]] = {}
        for datum in cloudwatch_backends[ACCOUNT][REGION].get_all_metrics():
            value = getattr(datum, "value", None)
            if value is None or datum.namespace != metric["Namespace"] or datum.name != metric["MetricName"]:
                continue
            # moto keeps timestamps naive, in UTC.
            moment = datum.timestamp if datum.timestamp.tzinfo else datum.timestamp.replace(tzinfo=timezone.utc)
            if {(d.name, d.value) for d in datum.dimensions} != wanted or not start <= moment < end:
                continue
            buckets.setdefault(int((moment - start).total_seconds()) // period, []).append(float(value))
        stamps, values = [], []
        for index, points in sorted(buckets.items()):
            points.sort()
            stamps.append(start + timedelta(seconds=index * period))
            values.append(points[max(0, math.ceil(rank / 100 * len(points)) - 1)])
        return {
            "Id": query["Id"],
            "Label": f"{metric['MetricName']} {stat['Stat']}",
            "Timestamps": stamps,
            "Values": values,
            "StatusCode": "Complete",
        }


class LineageSageMaker:
    """moto's SageMaker, answering list_pipeline_execution_steps (not implemented in moto 5.2.5)."""

    def __init__(self, client: Any, steps: dict[str, list[dict[str, Any]]]) -> None:
        self._client, self._steps = client, steps

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def list_pipeline_execution_steps(self, PipelineExecutionArn: str, **_: Any) -> dict[str, Any]:
        return {"PipelineExecutionSteps": self._steps.get(PipelineExecutionArn, [])}


class RehearsalSession:
    """A boto3 session whose CloudWatch and SageMaker clients bridge the moto gaps above, and whose
    clients named in `stubbed` are those (botocore Stubber where moto falls short: CodeDeploy)."""

    def __init__(self, steps: dict[str, list[dict[str, Any]]], stubbed: Optional[dict[str, Any]] = None) -> None:
        import boto3

        self._session, self._steps = boto3.session.Session(region_name=REGION), steps
        self.stubbed: dict[str, Any] = dict(stubbed or {})

    def get_credentials(self) -> Any:
        return self._session.get_credentials()

    def client(self, name: str, region_name: Optional[str] = None) -> Any:
        if name in self.stubbed:
            return self.stubbed[name]
        client = self._session.client(name, region_name=region_name or REGION)
        if name == "cloudwatch":
            return PercentileCloudWatch(client)
        if name == "sagemaker":
            return LineageSageMaker(client, self._steps)
        return client


# ---- the world the loop runs in -------------------------------------------------------------------


def _registry(session: RehearsalSession, root: Path, work: Path) -> tuple[str, str]:
    sagemaker, s3 = session.client("sagemaker"), session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    from tools.promote.artifact import SHA256_KEY, VERSION_ID_KEY
    from tools.rehearsal.report import ProgramTree, on_path

    on_path(ProgramTree(root).model_dir)
    from churn.seal import seal

    # As the Evaluate step writes it, with the digest of the model.tar.gz it received.
    report = {
        "binary_classification_metrics": {"auc": {"value": 0.912}, "accuracy": {"value": 0.874}, "f1": {"value": 0.701}},
        "model_artifact": {"sha256": hashlib.sha256(MODEL_BYTES).hexdigest()},
    }
    # The SealModel step: the evaluated bytes, written once under the sealed prefix (the image's own code).
    archive = work / "loop" / "model.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(MODEL_BYTES)
    key = session.client("kms").create_key(Description="the project key")["KeyMetadata"]["Arn"]
    sealed = seal(s3, archive, SEALED_MODEL, expected_sha256=report["model_artifact"]["sha256"], kms_key_id=key)
    # What RegisterModel records from seal.json (CustomerMetadataProperties, JsonGet model_artifact.sha256/.version_id).
    metadata = {SHA256_KEY: sealed.sha256, VERSION_ID_KEY: sealed.version_id}
    s3.put_object(Bucket=BUCKET, Key="pipelines/mlops-dev-training/rehearsal01/evaluation.json", Body=json.dumps(report).encode())
    sagemaker.create_training_job(
        TrainingJobName="pipelines-rehearsal01-train",
        AlgorithmSpecification={"TrainingImage": "model", "TrainingInputMode": "File"},
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/mlops-dev-sagemaker",
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://mlops-dev-data/processed/rehearsal01/train"}},
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/pipelines/mlops-dev-training"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    session._steps[EXECUTION] = [
        {
            "StepName": "Train",
            "Metadata": {"TrainingJob": {"Arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/pipelines-rehearsal01-train"}},
        }
    ]

    def register(status: str, execution: str) -> str:
        container = {
            "Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlops-dev-model@sha256:" + "a1" * 32,
            "ModelDataUrl": sealed.uri,
        }
        return sagemaker.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [container],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            MetadataProperties={"GeneratedBy": execution},
            CustomerMetadataProperties=metadata,
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://{BUCKET}/pipelines/mlops-dev-training/rehearsal01/evaluation.json",
                    }
                }
            },
        )["ModelPackageArn"]

    first = register("Approved", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-dev-training/execution/earlier")
    second = register("PendingManualApproval", EXECUTION)
    # The metadata again: moto 5.2.5's update_model_package clears what it is not given (AWS keeps it).
    sagemaker.update_model_package(
        ModelPackageArn=second,
        ModelApprovalStatus="Approved",
        ApprovalDescription="AUC 0.912 over 0.75; reviewed the data report",
        CustomerMetadataProperties=metadata,
    )
    return first, second


def _backdate(name: str, since: datetime) -> datetime:
    """The soak happened: the endpoint's record says it was created `since` (moto keeps naive UTC)."""
    from moto.sagemaker.models import sagemaker_backends

    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[name]
    endpoint.creation_time = endpoint.last_modified_time = since.replace(tzinfo=None)
    return since


def _serve(session: RehearsalSession, since: datetime, hours: float, fault: Optional[str]) -> None:
    """dev's soak as CloudWatch and Model Monitor record it: one batch of datapoints per hour."""
    cloudwatch, s3 = session.client("cloudwatch"), session.client("s3")
    dims = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": VARIANT}]
    cloudwatch.put_metric_alarm(
        AlarmName=DRIFT_ALARM,
        EvaluationPeriods=1,
        Threshold=0.2,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            *(
                {
                    "Id": f"f{i}",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "aws/sagemaker/Endpoints/data-metrics",
                            "MetricName": f"feature_baseline_drift_{feature}",
                            "Dimensions": [
                                {"Name": "Endpoint", "Value": ENDPOINT},
                                {"Name": "MonitoringSchedule", "Value": "mlops-dev-data-quality"},
                            ],
                        },
                        "Period": 3600,
                        "Stat": "Maximum",
                    },
                }
                for i, feature in enumerate(FEATURES)
            ),
            {"Id": "total_drift", "Expression": " + ".join(f"FILL(f{i}, 0)" for i in range(len(FEATURES))), "ReturnData": True},
        ],
    )
    for hour in range(int(hours)):
        at = since + timedelta(hours=hour, minutes=30)
        errors = 9.0 if fault == "errors" else 0.0
        latencies = [40_000.0 + 1000 * (i % 7) for i in range(99)] + [(950_000.0 if fault == "latency" else 120_000.0)] * 3
        cloudwatch.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": at, "Value": 300.0},
                {"MetricName": "Invocation5XXErrors", "Dimensions": dims, "Timestamp": at, "Value": errors},
                {"MetricName": "ModelLatency", "Dimensions": dims, "Timestamp": at, "Values": latencies, "Unit": "Microseconds"},
            ],
        )
        drift = 0.3 if fault == "drift" and hour == int(hours) - 3 else 0.02
        cloudwatch.put_metric_data(
            Namespace="aws/sagemaker/Endpoints/data-metrics",
            MetricData=[
                {
                    "MetricName": f"feature_baseline_drift_{feature}",
                    "Dimensions": [
                        {"Name": "Endpoint", "Value": ENDPOINT},
                        {"Name": "MonitoringSchedule", "Value": "mlops-dev-data-quality"},
                    ],
                    "Timestamp": at,
                    "Value": drift,
                }
                for feature in FEATURES
            ],
        )
    if fault == "drift":
        cloudwatch.set_alarm_state(AlarmName=DRIFT_ALARM, StateValue="ALARM", StateReason="Threshold Crossed: total drift 0.9 > 0.2")
    violations = [{"feature_name": "monthly_charges", "constraint_check_type": "baseline_drift_check"}] if fault == "quality" else []
    s3.put_object(
        Bucket=BUCKET,
        Key=f"monitoring/{ENDPOINT}/reports/{ENDPOINT}/mlops-dev-data-quality/constraint_violations.json",
        Body=json.dumps({"violations": violations}).encode(),
    )


def _git(view: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=rehearsal", "-c", "user.email=rehearsal@example.com", *args],
        cwd=view,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _commit(view: Path, message: str, *paths: str) -> None:
    _git(view, "add", "Pulumi.dev.yaml", "Pulumi.prod.yaml", *paths)
    _git(view, "commit", "-q", "--allow-empty", "-m", message)


def _own_api_folder(root: Path, view: Path) -> Path:
    """The view's containers/api as a copy of the real one (the restore writes it), the other
    containers linked as program_view links everything."""
    containers = view / "containers"
    if containers.is_symlink():
        containers.unlink()
        containers.mkdir()
        for entry in (root / "containers").iterdir():
            if entry.name != "api":
                (containers / entry.name).symlink_to(entry)
        shutil.copytree(root / "containers" / "api", containers / "api", ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return containers / "api"


def _rehearse_restore(result: LoopResult, view: Path, out: Path, session: RehearsalSession, first: str, second: str) -> bool:
    """Step 4: first the promotion merged but not deployed (no pull request), then the endpoint's and
    the API's releases rolled back by alarms -> one restore pull request."""
    from components.api.function_package import source_digest
    from tools.promote import cli
    from tools.promote.api_code import ApiNames
    from tools.rehearsal.rolled_back import (
        ROLLED_BACK_ID,
        Deployment,
        api_function,
        moto_alarm,
        moto_endpoint,
        moto_rolled_back_release,
        publish,
        rolled_back_codedeploy,
        serve,
    )

    api = view / "containers" / "api"
    names = ApiNames("mlops-prod-predict", "live", "mlops-prod-predict-api", "mlops-prod-predict-live", REGION)
    prod_outputs = out / "prod-outputs.json"
    prod_outputs.write_text(
        json.dumps(
            {
                "endpointName": PROD_ENDPOINT,
                "endpointAlarmArns": {"errors": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{PROD_5XX_ALARM}"},
                "apiFunctionName": names.function,
                "apiApplicationName": names.application,
                "apiDeploymentGroupName": names.deployment_group,
            }
        )
    )
    before = (view / "Pulumi.prod.yaml").read_text()

    # Merged, not deployed: prod pins version 2, its deploy waits for the `production` approval, so
    # the endpoint still serves version 1 and no configuration was built for 2; the API runs HEAD's code.
    moto_endpoint(session, PROD_ENDPOINT, first, "prod")
    role = session.client("iam").create_role(RoleName="mlops-prod-predict-lambda", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_ = session.client("lambda")
    api_function(lambda_, names, role)
    shipped = source_digest(api)
    current = publish(lambda_, names, shipped)
    serve(lambda_, names, current)
    done = _call(result, "restore before the deploy", lambda: cli.restore(view, "prod", session, prod_outputs, out / "restore-pr.md"))
    if done is None:
        return False
    if (view / "Pulumi.prod.yaml").read_text() != before or (out / "restore-pr.md").exists():
        result.problems.append(f"restore before the deploy: a pull request for a promotion not deployed yet ({done.splitlines()[-1]})")
        return False
    result.lines.append(f"merged, not deployed -> no restore PR: {done.splitlines()[0]}")

    # The deploy ran: SageMaker rolled the release of version 2 back on prod's 5XX alarm (EndpointRelease
    # tagged the configuration it built), and CodeDeploy stopped the release of the API's new code.
    with (api / "predict.py").open("a") as handle:
        handle.write("\n# rehearsal: a change whose release CodeDeploy rolls back\n")
    (api / "feature_flags.json").write_text('{"rehearsal": true}\n')
    _commit(view, "the API's new code", "containers/api")
    moto_rolled_back_release(session, PROD_ENDPOINT, second, "prod", PROD_5XX_ALARM)
    cloudwatch = session.client("cloudwatch")
    moto_alarm(cloudwatch, PROD_5XX_ALARM, "ALARM", "Threshold Crossed: 14 5XX errors in 1 minute > 0")
    for alarm in API_ALARMS:
        moto_alarm(cloudwatch, alarm, "ALARM" if alarm.endswith("api-5xx") else "OK", "Threshold Crossed: 9 5xx answers in 1 minute > 0")
    target = publish(lambda_, names, source_digest(api))
    deployments = [Deployment(ROLLED_BACK_ID, current, target, API_ALARMS[2])]
    session.stubbed["codedeploy"], _ = rolled_back_codedeploy(session, names, deployments, list(API_ALARMS))
    done = _call(result, "restore after alarm", lambda: cli.restore(view, "prod", session, prod_outputs, out / "restore-pr.md"))
    if done is None:
        return False
    result.bodies["restore"] = (out / "restore-pr.md").read_text()
    result.lines.append(f"alarm rollbacks -> restore PR: {done.splitlines()[-1]}")
    if source_digest(api) != shipped:
        result.problems.append("restore after alarm: containers/api is not the code the API's alias serves")
        return False
    result.lines.append(f"  {done.splitlines()[-2]}; containers/api written back (code sha256 {shipped[:12]}...)")
    # The restore pull request is a branch of its own: the loop goes on from main.
    (view / "Pulumi.prod.yaml").write_text(before)
    _git(view, "checkout", "-q", "--", "containers/api")
    _git(view, "clean", "-qfd", "--", "containers/api")
    return True


def _compact(evidence: Any) -> list[str]:
    """The evidence table as the report shows it (the pull request body has the windows and queries)."""
    return [f"  {'met   ' if m.passed else 'FAILED'} {m.slo}: {m.measured} (threshold {m.threshold})" for m in evidence.measurements]


def _call(result: LoopResult, step: str, run: Any) -> Optional[str]:
    from tools.promote.stack_file import CheckFailed, PromoteError

    try:
        return run()
    except (CheckFailed, PromoteError) as exc:
        result.problems.append(f"{step}: {exc}")
        return None


def rehearse_loop(root: Path, work: Path, fault: Optional[str] = None) -> LoopResult:
    from moto import mock_aws

    from tools.promote import cli
    from tools.promote.evidence import Evidence
    from tools.promote.soak import SoakFailed, promotion_config
    from tools.rehearsal.promotion import program_view
    from tools.rehearsal.rolled_back import moto_endpoint

    result = LoopResult()
    view = program_view(root, work, "loop")
    out = work / "loop"
    _own_api_folder(root, view)
    _git(view, "init", "-q")
    _commit(view, "the stacks and the API as shipped", "containers/api")
    soak_hours = promotion_config(view).soak_hours
    with mock.patch.dict(os.environ, FAKE_CREDENTIALS), mock_aws():
        session = RehearsalSession({})
        first, second = _registry(session, root, work)
        result.lines.append(f"registry: {second} registered by {EXECUTION.rsplit('/', 1)[-1]} and approved ({first} serves today)")

        done = _call(result, "approval -> dev", lambda: cli.promote_approved(view, session, out / "dev-pr.md"))
        if done is None:
            return result
        result.bodies["dev"] = (out / "dev-pr.md").read_text()
        result.lines.append("approval -> dev PR: " + done.splitlines()[-1])
        _commit(view, "promote version 2 to dev")

        moto_endpoint(session, ENDPOINT, second, "dev")
        now = datetime.now(timezone.utc)
        since = _backdate(ENDPOINT, now - timedelta(hours=soak_hours, minutes=6))
        _serve(session, since, soak_hours, fault)
        outputs = out / "dev-outputs.json"
        outputs.write_text(
            json.dumps({"modelPackageArn": second, "endpointName": ENDPOINT, "endpointVariantName": VARIANT, "artifactBucket": BUCKET})
        )
        result.lines.append(
            f"dev serves version 2 since {since:%H:%M} UTC yesterday (backdated {soak_hours:g} h 6 min in moto); "
            f"CloudWatch datapoints put for every hour since (fault: {fault or 'none'})"
        )

        try:
            done = cli.promote_soaked(view, session, outputs, out / "prod-evidence.json", out / "prod-pr.md")
        except SoakFailed as refused:
            result.lines += _compact(refused.evidence)
            result.refusal = str(refused)
            result.lines.append(f"prod promotion REFUSED: {refused}")
            result.problems.append(f"prod promotion refused: {refused}")
            return result
        except Exception as exc:  # a refusal for another reason than an SLO is a broken loop, said in one line
            result.problems.append(f"soak -> prod: {exc}")
            return result
        result.bodies["prod"] = (out / "prod-pr.md").read_text()
        result.lines += _compact(Evidence.from_json((out / "prod-evidence.json").read_text(), "prod-evidence.json"))
        result.lines.append("soak -> prod PR: " + " / ".join(done.splitlines()[-2:]))
        _commit(view, "promote version 2 to prod")
        gate = _call(result, "deploy gate", lambda: cli.check_evidence(view, session, outputs, out / "prod-evidence.json"))
        if gate is None:
            return result
        result.lines.append(f"deploy gate (--check-evidence prod): {gate}")
        verified = _call(result, "model bytes", lambda: cli.verify(view, "prod", session, outputs))
        if verified is None:
            return result
        result.lines.append(f"deploy gate (--verify prod): {verified}")

        if not _rehearse_restore(result, view, out, session, first, second):
            return result

        done = _call(
            result,
            "emergency rollback",
            lambda: cli.roll_back(
                view, None, "p99 regression seen by customers", session, outputs, out / "rollback.json", out / "rollback-pr.md"
            ),
        )
        if done is None:
            return result
        result.bodies["rollback"] = (out / "rollback-pr.md").read_text()
        result.lines.append("emergency rollback PR: " + done.splitlines()[-1])
        _commit(view, "emergency rollback of prod")
        gate = _call(result, "deploy gate after rollback", lambda: cli.check_evidence(view, session, outputs, out / "rollback.json"))
        if gate is not None:
            result.lines.append(f"deploy gate (--check-evidence prod): {gate}")
            names = ", ".join(f"{name}-pr.md" for name in result.bodies)
            result.lines.append(f"pull request bodies: {names} in {out} (python -m tools.rehearsal.loop --bodies prints them)")
    return result


def main(argv: Optional[list[str]] = None) -> int:
    from tools.rehearsal.report import ROOT

    parser = argparse.ArgumentParser(
        prog="python -m tools.rehearsal.loop", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--soak-fault", choices=FAULTS, help="inject a fault into dev's soak: the prod promotion must be refused")
    parser.add_argument("--bodies", action="store_true", help="print every pull request body")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="loop-") as tmp:
        result = rehearse_loop(ROOT, Path(tmp), args.soak_fault)
    print("\n".join(result.lines))
    if args.bodies:
        for name, body in result.bodies.items():
            print(f"\n----- {name} pull request -----\n{body}")
    if result.problems:
        print(f"rehearsal FAILED: {result.problems[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
