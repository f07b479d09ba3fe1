"""The offline preview feeds one stack's outputs to another's StackReference (a tiny two-stack program)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.offline.records import ROOT

PROGRAM = """
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
registry = config.get_object("registry") or {}
if "stack" in registry:
    owner = pulumi.StackReference(registry["stack"])
    pulumi.export("served", owner.require_output("modelPackageArn"))
else:
    region = pulumi.Config("aws").get("region")
    pulumi.export("modelPackageArn", f"arn:aws:sagemaker:{region}:123456789012:model-package/{pulumi.get_stack()}-group/3")
"""


def write_program(root: Path, stacks: dict[str, str]) -> Path:
    (root / "Pulumi.yaml").write_text("name: tiny\nruntime: python\n")
    (root / "__main__.py").write_text(PROGRAM)
    for stack, registry in stacks.items():
        config = f"  tiny:registry:\n    stack: {registry}\n" if registry else "  aws:region: us-east-1\n"
        (root / f"Pulumi.{stack}.yaml").write_text("config:\n" + config)
    return root


def preview(program: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.preview", "--program-dir", str(program), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    return write_program(
        tmp_path_factory.mktemp("tiny"), {"owner": "", "consumer": "acme/tiny/owner", "ping": "acme/tiny/pong", "pong": "acme/tiny/ping"}
    )


def test_both_stacks_in_one_run_the_consumer_reads_the_owners_outputs(program, tmp_path):
    done = preview(program, "--stack", "owner", "--stack", "consumer", "--json", str(tmp_path / "{stack}.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    owner = json.loads((tmp_path / "owner.json").read_text())
    consumer = json.loads((tmp_path / "consumer.json").read_text())
    assert (
        consumer["outputs"]["served"]
        == owner["outputs"]["modelPackageArn"]
        == "arn:aws:sagemaker:us-east-1:123456789012:model-package/owner-group/3"
    )
    [reference] = [r for r in consumer["resources"] if r["type"] == "pulumi:pulumi:StackReference"]
    assert reference["name"] == "acme/tiny/owner" and reference["inputs"] == {"name": "acme/tiny/owner"}
    assert "pulumi:pulumi:StackReference" in done.stdout


def test_consumer_alone_runs_the_owner_first_without_showing_it(program, tmp_path):
    done = preview(program, "--stack", "consumer", "--json", str(tmp_path / "c.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "c.json").read_text())["outputs"]["served"].endswith("/owner-group/3")
    assert "Previewing stack 'owner'" not in done.stdout


def test_consumer_alone_reads_the_owners_outputs_from_a_file(program, tmp_path):
    outputs = tmp_path / "owner-outputs.json"
    outputs.write_text(json.dumps({"modelPackageArn": "arn:aws:sagemaker:us-east-1:111122223333:model-package/shared/9"}))
    done = preview(program, "--stack", "consumer", "--stack-outputs", f"owner={outputs}", "--json", str(tmp_path / "c.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        json.loads((tmp_path / "c.json").read_text())["outputs"]["served"]
        == "arn:aws:sagemaker:us-east-1:111122223333:model-package/shared/9"
    )


def test_a_reference_to_an_unknown_stack_exits_2_saying_how_to_give_its_outputs(program):
    done = preview(program, "--stack", "consumer", "--set", "registry.stack=acme/tiny/elsewhere")
    assert done.returncode == 2
    assert "StackReference 'acme/tiny/elsewhere': no outputs of stack 'elsewhere' offline" in done.stdout
    assert "--stack-outputs elsewhere=FILE" in done.stdout and "Traceback" not in done.stdout


def test_a_cycle_and_a_bad_outputs_argument_exit_2(program, tmp_path):
    done = preview(program, "--stack", "ping")
    assert done.returncode == 2 and "stack references form a cycle: ping -> pong -> ping" in done.stderr
    done = preview(program, "--stack", "consumer", "--stack-outputs", "owner")
    assert done.returncode == 2 and "expected STACK=FILE" in done.stderr
    done = preview(program, "--stack", "consumer", "--stack-outputs", f"owner={tmp_path / 'missing.json'}")
    assert done.returncode == 2 and "no such file" in done.stderr


def test_overrides_apply_to_the_previewed_stack_not_to_the_one_run_for_its_outputs(program, tmp_path):
    done = preview(program, "--stack", "consumer", "--set", "aws:region=eu-west-1", "--json", str(tmp_path / "c.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    # The owner ran as shipped: its ARN names its own region, not the consumer's override.
    consumer = json.loads((tmp_path / "c.json").read_text())
    assert consumer["outputs"]["served"] == "arn:aws:sagemaker:us-east-1:123456789012:model-package/owner-group/3"
    both = preview(
        program, "--stack", "owner", "--stack", "consumer", "--set", "aws:region=eu-west-1", "--json", str(tmp_path / "{stack}.json")
    )
    assert both.returncode == 0, both.stdout + both.stderr
    assert json.loads((tmp_path / "consumer.json").read_text())["outputs"]["served"].startswith("arn:aws:sagemaker:eu-west-1:")
