"""The stack that owns the shared registry keeps it with prod-grade settings whenever another stack
or account serves from it: protected group, artifact bucket, image repository and key, no force
destroy or delete, the 30-day key deletion window."""

from __future__ import annotations

import pytest
from config_testkit import NS, of_records
from program_testkit import copy_program

from components.config.registry import referencing_stacks
from tools.offline.records import ROOT, stack_records

PROTECTED = {
    ("aws:sagemaker/modelPackageGroup:ModelPackageGroup", "training-model-group"),
    ("aws:s3/bucket:Bucket", "training-artifacts"),
    ("aws:ecr/repository:Repository", "training-model-image-repo"),
    ("aws:kms/key:Key", "foundation-key"),
}


def protected(records) -> set[tuple[str, str]]:
    return {(r["type"], r["name"]) for r in records.resources if r["options"].get("protect")}


def assert_prod_grade(records) -> None:
    assert protected(records) == PROTECTED
    assert records.one("aws:s3/bucket:Bucket", "training-artifacts")["inputs"]["forceDestroy"] is False
    assert records.one("aws:ecr/repository:Repository", "training-model-image-repo")["inputs"]["forceDelete"] is False
    assert records.one("aws:kms/key:Key", "foundation-key")["inputs"]["deletionWindowInDays"] == 30
    # The image build is replaced by every new model image: protecting it would block each release.
    assert not records.one("docker:index/image:Image", "training-model-image-image")["options"].get("protect")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_shipped_stack_owning_a_registry_another_serves_keeps_it(stack):
    records = stack_records(stack)
    cfg = of_records(records)
    if cfg.registry_shared:
        assert_prod_grade(records)
    elif cfg.owns_registry:
        assert protected(records) == set()
    else:  # a consumer owns no registry: nothing of it to protect
        assert protected(records) == set() and not records.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")


def test_the_shipped_layout_shares_a_registry_so_the_test_above_checks_one():
    owners = [s for s in ("dev", "prod") if referencing_stacks(ROOT, s)]
    assert owners, "no shipped stack serves another's registry: protection is untested"


def test_a_registry_nobody_serves_is_disposable_in_dev(tmp_path):
    program = copy_program(tmp_path)
    for other in program.glob("Pulumi.*.yaml"):
        if other.name != "Pulumi.dev.yaml" and other.name != "Pulumi.yaml":
            other.unlink()
    records = stack_records("dev", program_dir=program)
    assert not of_records(records).is_prod and protected(records) == set()
    assert records.one("aws:s3/bucket:Bucket", "training-artifacts")["inputs"]["forceDestroy"] is True
    assert records.one("aws:kms/key:Key", "foundation-key")["inputs"]["deletionWindowInDays"] == 7


def test_a_consumer_account_alone_makes_the_registry_prod_grade(tmp_path):
    program = copy_program(tmp_path)
    (program / "Pulumi.prod.yaml").unlink()
    assert_prod_grade(stack_records("dev", 'registry.consumerAccounts=["345678901234"]', program_dir=program))


def test_referencing_stacks_reads_registry_stack_of_the_other_stack_files(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(f"config:\n  {NS}:registry:\n    stack: acme/{NS}/dev\n")
    (tmp_path / "Pulumi.other.yaml").write_text(f"config:\n  {NS}:registry:\n    stack: acme/another-project/dev\n")
    (tmp_path / "Pulumi.broken.yaml").write_text("config: [unclosed\n")
    assert referencing_stacks(tmp_path, "dev") == ("prod",)
    assert referencing_stacks(tmp_path, "prod") == ()
