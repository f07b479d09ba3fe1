"""docs/promotion.md says what the code does: the promote CLI, the registry's output names, the
grants to consumer accounts and the guardrail it names."""

from __future__ import annotations

import re
import sys

from components.training.access import CONSUMER_REGISTRY_ACTIONS
from components.training.registry import OUTPUTS, SERVED_PACKAGE_OUTPUT, SERVED_VERSION_OUTPUT
from components.training.triggers import DRIFT_ALARM_SUFFIX
from tools.offline.records import ROOT
from tools.promote import cli as promote

PAGE = (ROOT / "docs" / "promotion.md").read_text()


def test_the_cli_synopsis_is_the_commands_own():
    synopsis = re.search(r"## `python -m tools.promote`\n\n```\n(.*?)```", PAGE, re.S).group(1).strip().splitlines()
    usage = [line.strip() for line in (promote.__doc__ or "").splitlines() if line.strip().startswith("python -m tools.promote")]
    assert synopsis == usage


def test_every_registry_output_is_in_the_table():
    table = PAGE.split("## The registry's outputs", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", table, re.M))
    names = {n for pair in documented for n in pair if n}
    assert names == {*OUTPUTS.values(), SERVED_PACKAGE_OUTPUT, SERVED_VERSION_OUTPUT}


def test_the_grants_and_the_guardrail_named_are_the_codes():
    for action in CONSUMER_REGISTRY_ACTIONS:
        assert f"`{action.split(':')[1]}`" in PAGE, action
    assert f"`{DRIFT_ALARM_SUFFIX}`" in PAGE
    sys.path.insert(0, str(ROOT / "policies"))
    from guardrails import ALL_POLICIES

    assert "sagemaker-model-shared-registry" in {p.name for p in ALL_POLICIES}
    assert "`sagemaker-model-shared-registry`" in PAGE


def test_the_model_bytes_section_names_the_keys_the_check_reads():
    from tools.promote.artifact import SHA256_KEY, VERSION_ID_KEY

    section = PAGE.split("## Model bytes", 1)[1].split("\n## ", 1)[0]
    assert f"`{SHA256_KEY}`" in section and f"`{VERSION_ID_KEY}`" in section
    assert "fails closed" in PAGE and "never uses `Pulumi.dev.yaml`" in PAGE


def test_the_model_bytes_section_says_how_the_pipeline_seals_and_records_the_bytes():
    import re

    from components.training.definition.layout import (
        MODEL_DATA_SHA256_KEY,
        MODEL_DATA_VERSION_ID_KEY,
        MODEL_SHA256_JSON_PATH,
        SEALED_SHA256_JSON_PATH,
        SEALED_VERSION_ID_JSON_PATH,
        STEP_EVALUATE,
        STEP_REGISTER,
        STEP_SEAL,
        sealed_model_prefix,
    )

    section = PAGE.split("## Model bytes", 1)[1].split("\n## ", 1)[0]
    for name in (STEP_EVALUATE, STEP_SEAL, STEP_REGISTER, MODEL_SHA256_JSON_PATH, "If-None-Match: *", "s3:if-none-match"):
        assert f"`{name}`" in section, name
    assert sealed_model_prefix("<pipeline>") in section
    assert f'`{{"{MODEL_DATA_SHA256_KEY}": JsonGet(SealReport, "{SEALED_SHA256_JSON_PATH}"),' in section
    assert f'"{MODEL_DATA_VERSION_ID_KEY}": JsonGet(SealReport, "{SEALED_VERSION_ID_JSON_PATH}")}}`' in section
    # Every statement the bucket policy adds for model bytes is named, and only those.
    source = (ROOT / "components" / "training" / "access.py").read_text().split("def model_bytes_statements", 1)[1].split("\ndef ", 1)[0]
    sids = set(re.findall(r'sid="(\w+)"', source))
    assert sids == {"DenyUnconditionalWritesOfSealedModels", "DenyReplicatingOverSealedModels", "DenyDeletingModelBytes"}
    assert all(f"`{sid}`" in section for sid in sids)
