"""`tools.preview --first-preview`: the engine's view of a stack whose resources do not exist yet.

Outputs of resources not created yet are unknown (as in a first `pulumi preview`, or after an image
rebuild). The mandatory guardrails still judge every fact that is known then; the ones that can
judge only at `pulumi up` are exactly those docs/preview.md lists, and a careless change is still
blocked in this mode.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from test_preview import copy_program, preview

from tools.offline.records import ROOT

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker of an unknown value
CANT_RUN = re.compile(r"^can't run policy '([^']+)' from policy pack")


def documented_only_at_up() -> set[str]:
    """The policies docs/preview.md lists as judging only at `pulumi up`."""
    text = (ROOT / "docs" / "preview.md").read_text()
    section = text.split("<!-- judged only at up: begin -->", 1)[1].split("<!-- judged only at up: end -->", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE))


@pytest.fixture(scope="module")
def first_previews(tmp_path_factory):
    out = tmp_path_factory.mktemp("first-preview") / "out-{stack}.json"
    done = preview("--stack", "dev", "--stack", "prod", "--first-preview", "--json", str(out))
    return done, {s: json.loads(Path(str(out).replace("{stack}", s)).read_text()) for s in ("dev", "prod")}


def test_outputs_of_resources_not_created_yet_are_unknown_and_inputs_known(first_previews):
    done, results = first_previews
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr
    resources = results["dev"]["resources"]
    [key_alias] = [r for r in resources if r["type"] == "aws:kms/alias:Alias"]
    assert key_alias["inputs"]["targetKeyId"] == UNKNOWN  # the key's id: AWS assigns it
    assert key_alias["inputs"]["name"] == "alias/mlops-dev"  # the program's own value
    topic = next(r for r in resources if r["type"] == "aws:sns/topic:Topic")
    assert topic["inputs"]["kmsMasterKeyId"] == UNKNOWN
    pipeline = next(r for r in resources if r["type"] == "aws:sagemaker/pipeline:Pipeline")
    assert pipeline["inputs"]["pipelineDefinition"] == UNKNOWN  # embeds the role, key and image digests
    assert pipeline["inputs"]["pipelineName"] == "mlops-dev-training"


def cant_run(result: dict) -> set[str]:
    return {CANT_RUN.match(v["message"])[1] for v in result["violations"] if CANT_RUN.match(v["message"])}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_mandatory_guardrails_judge_every_known_fact(first_previews, stack):
    done, results = first_previews
    result = results[stack]
    levels = {p["name"]: p["level"] for p in result["policies"]}
    mandatory = {p for p in cant_run(result) if levels[p] == "mandatory"}
    # S3 encryption / TLS-only / versioning, SNS, Logs, ECR, SageMaker endpoint and monitoring keys,
    # Lambda permissions, API access logs and the cost guardrails all give a verdict here.
    assert mandatory <= documented_only_at_up(), mandatory - documented_only_at_up()
    judged_at_up = [v for v in result["violations"] if CANT_RUN.match(v["message"]) and levels[v["policy"]] == "mandatory"]
    assert result["summary"]["judgedOnlyAtUp"] == len(judged_at_up) > 0
    assert result["summary"]["ok"] is True and result["summary"]["mandatoryViolations"] == 0
    assert f"{stack}: OK:" in done.stdout and "mandatory check(s) judge only at `pulumi up`" in done.stdout
    assert not {"cost-budget", "cost-estimate"} & cant_run(result)
    assert result["summary"]["costEstimate"]["monthlyUsd"] > 0


def test_what_judges_only_at_up_is_exactly_what_the_docs_list(first_previews):
    # Policies prod makes mandatory that could not judge in either stack (prod has no pipeline of its own).
    _, results = first_previews
    prod_levels = {p["name"]: p["level"] for p in results["prod"]["policies"]}
    waiting = {p for stack in ("dev", "prod") for p in cant_run(results[stack]) if prod_levels[p] == "mandatory"}
    assert waiting == documented_only_at_up()
    # The pipeline's runs are priced at `up`, and the estimate says so.
    notes = results["dev"]["summary"]["costEstimate"]["notes"]
    assert any("its runs are estimated only at `pulumi up`" in note for note in notes)


CARELESS = textwrap.dedent(
    """
    # Careless changes whose unsafe values are known even before anything exists.
    aws.cloudwatch.LogGroup(
        "careless-log-group", retention_in_days=30, kms_key_id="alias/aws/logs", opts=with_provider
    )
    aws.sns.Topic("careless-topic", kms_master_key_id="alias/aws/sns", opts=with_provider)
    aws.lambda_.Permission(
        "careless-invoke",
        action="lambda:InvokeFunction",
        function=foundation.key_arn.apply(lambda _: "mlops-prod-predict"),  # unknown until the key exists
        principal="apigateway.amazonaws.com",
        opts=with_provider,
    )
    """
)


def test_a_careless_change_is_blocked_in_a_first_preview(tmp_path):
    program = copy_program(tmp_path)
    with (program / "__main__.py").open("a") as main:
        main.write(CARELESS)
    out = tmp_path / "result.json"
    done = preview("--stack", "prod", "--first-preview", "--program-dir", str(program), "--json", str(out))
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr
    assert "prod: BLOCKED" in done.stdout
    blocked = {(v["policy"], v["urn"]) for v in json.loads(out.read_text())["violations"] if v["level"] == "mandatory"}
    urn = "urn:pulumi:prod::sagemaker-mlops::{}::{}".format
    assert blocked == {
        ("log-group-encrypted", urn("aws:cloudwatch/logGroup:LogGroup", "careless-log-group")),
        ("sns-topic-encrypted", urn("aws:sns/topic:Topic", "careless-topic")),
        ("lambda-permission-restricted", urn("aws:lambda/permission:Permission", "careless-invoke")),
    }
