"""The generated parts of the docs (config reference, guardrail table, the README's policy count)
are what `python -m tools.docs` prints from the code today, and the generator reads the code right."""

from __future__ import annotations

import importlib
import sys

import pytest

from components.config import stack as cfg
from tools.docs import cli as docs
from tools.docs import config as docs_config
from tools.docs import guardrails as docs_guardrails
from tools.docs import parts as docs_parts
from tools.docs import preview as docs_preview

# Policies that judge every resource type (their code names no type to filter on).
JUDGES_EVERY_RESOURCE = {"required-tags"}


@pytest.fixture(scope="module")
def guardrail_rows():
    return docs_guardrails.guardrail_rows()


@pytest.fixture(scope="module")
def preview_documents():
    return docs_preview.preview_summaries()  # the offline preview of both stacks, once


@pytest.fixture(scope="module")
def pages(guardrail_rows, preview_documents):
    return docs.generated_pages(guardrail_rows, preview_documents)


def test_the_committed_docs_are_what_the_generator_prints(pages):
    stale = docs.stale_pages(pages)
    assert not stale, f"{', '.join(stale)} differ from the code: run `python -m tools.docs` and commit the result"


def test_check_mode_names_a_stale_page_and_fails(tmp_path, monkeypatch, capsys, guardrail_rows):
    page = tmp_path / "configuration.md"
    page.write_text(
        "intro\n" + docs_parts.begin_marker("config-reference") + "\nold table\n" + docs_parts.end_marker("config-reference") + "\noutro\n"
    )
    reference = docs_config.config_reference()
    monkeypatch.setattr(
        docs, "generated_pages", lambda **_: {page: docs_parts.replace_part(page.read_text(), "config-reference", reference, "x")}
    )
    monkeypatch.setattr(docs, "ROOT", tmp_path)
    assert docs.main(["--check"]) == 1
    assert "configuration.md" in capsys.readouterr().err
    assert docs.main([]) == 0
    text = page.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n") and "old table" not in text
    assert "| `network.azCount` |" in text
    assert docs.main(["--check"]) == 0


def test_replace_part_requires_exactly_one_marker_pair():
    with pytest.raises(docs_parts.DocsError, match="expected one"):
        docs_parts.replace_part("no markers", "guardrails", "x", "docs/policies.md")
    twice = (docs_parts.begin_marker("guardrails") + "\n" + docs_parts.end_marker("guardrails") + "\n") * 2
    with pytest.raises(docs_parts.DocsError, match="found 2 begin"):
        docs_parts.replace_part(twice, "guardrails", "x", "docs/policies.md")


def _all_config_keys(model: type, path: str) -> set[str]:
    keys = set()
    for name, info in model.__pydantic_fields__.items():
        key = f"{path}.{info.alias or name}"
        keys.add(key)
        inner = docs_config._unwrap(docs_config._optional_inner(docs_config._unwrap(info.annotation)[0])[0])[0]
        if docs_config.is_config_model(inner):
            keys |= _all_config_keys(inner, key)
    return keys


def test_every_config_key_is_in_the_reference_with_a_meaning():
    rows = {row.key: row for row in docs_config.config_rows(docs_config.shipped_stack_configs())}
    expected = {"aws:region"}
    for key, (tp, _) in cfg._SECTIONS.items():
        expected |= _all_config_keys(tp, key) if docs_config.is_config_model(tp) else {key}
    assert expected - set(rows) == set(), "config keys missing from the reference"
    undocumented = sorted(k for k, r in rows.items() if not r.meaning)
    assert not undocumented, (
        f"config keys without a meaning: {', '.join(undocumented)}; write a docstring under the field in "
        "its section's model in components/config_<section>.py (or StackConfig in components/config/stack.py for top-level keys), then run `python -m tools.docs`"
    )


def test_the_reference_says_which_stacks_set_a_key_never_their_values():
    """Values change with every promotion and with a team's own settings: the page shows keys."""
    rows = {row.key: row for row in docs_config.config_rows(docs_config.shipped_stack_configs())}
    assert rows["network.natGateways"].values == {"dev": "set", "prod": "set"}
    assert rows["endpoint.autoscaling.min"].values == {"dev": "", "prod": "set"}
    assert rows["endpoint.autoscaling"].values == {"dev": "", "prod": "set"}
    assert rows["endpoint.modelPackageVersion"].values == {"dev": "set", "prod": "set"}
    assert {v for row in rows.values() for v in row.values.values()} <= {"set", ""}
    assert rows["endpoint.instanceCount"].default == "`1`"
    assert rows["monitoring.driftThreshold"].default == "`0.2`"
    assert rows["endpoint.modelPackageVersion"].type == "int, optional"
    assert rows["endpoint.mode"].type == "`serverless` \\| `provisioned`".replace("\\", "")
    assert rows["network.azCount"].allowed == "an integer from 2 to 3"


def test_the_guardrail_table_has_every_policy_of_the_pack(guardrail_rows):
    sys.path.insert(0, str(docs_guardrails.PACK_DIR))
    from guardrails import ALL_POLICIES

    assert [r.name for r in guardrail_rows] == [p.name for p in ALL_POLICIES]
    prod = {r.name: r.levels["prod"] for r in guardrail_rows}
    # cost-estimate only states the estimate (guardrails/cost.py): advisory everywhere.
    assert prod.pop("cost-estimate").startswith("advisory")
    assert all(level.startswith("mandatory") for level in prod.values()), "prod's policies are all mandatory"
    dev = {r.name: r.levels["dev"] for r in guardrail_rows}
    assert dev["cost-budget"].startswith("advisory") and "monthlyBudgetUsd: 150" in dev["cost-budget"]
    assert "monthlyBudgetUsd: 650" in prod["cost-budget"]


def test_every_guardrail_names_the_resource_types_it_judges(guardrail_rows):
    by_class = docs_guardrails.class_titles()  # selected from the provider's schema, listed per class
    missing = sorted(r.name for r in guardrail_rows if not r.resource_types and r.name not in JUDGES_EVERY_RESOURCE | set(by_class))
    assert not missing, (
        f"no resource type found in the code of {', '.join(missing)}: name the types as `aws:<module>/<x>:<Type>` "
        "constants (or through guardrails.common.resource_policy), or add the policy to JUDGES_EVERY_RESOURCE here"
    )
    by_name = {r.name: r for r in guardrail_rows}
    assert by_name["kms-key-rotation"].resource_types == ["aws.kms.Key"]
    assert "aws.cloudwatch.LogGroup" in by_name["log-group-retention"].resource_types
    assert {"resource-policy-trusted-principals", "data-at-rest-project-key"} <= set(by_class)


def test_the_class_table_lists_the_types_each_class_selects_from_the_schema():
    table = docs_guardrails.class_table()
    assert "`aws.sqs.QueuePolicy`" in table and "`aws.efs.FileSystem`" in table and "`aws.iam.AccessKey`" in table
    # A type a dedicated guardrail owns is listed as left to it, not as judged by the class.
    assert "`aws.cloudwatch.LogGroup`: judged by log-group-encrypted" in table


def test_every_resource_type_in_the_table_exists_in_pulumi_aws(guardrail_rows):
    unknown = []
    for name in sorted({t for r in guardrail_rows for t in r.resource_types}):
        _, module, cls = name.split(".")
        if not hasattr(importlib.import_module(f"pulumi_aws.{module}"), cls):
            unknown.append(name)
    assert not unknown, f"guardrails name resource types pulumi-aws does not have: {', '.join(unknown)}"


def test_the_resource_index_names_the_file_of_every_component(preview_documents):
    rows = [line for line in docs_preview.resource_index(preview_documents).splitlines() if line.startswith("| `")]
    assert any("| TrainingPipeline | `components/training/pipeline.py` |" in r for r in rows)
    assert any(
        r.startswith("| `aws.s3.Bucket` |") and "TrainingPipeline › SecureBucket | `components/shared/secure_bucket.py` |" in r
        for r in rows
    )
    unplaced = [r for r in rows if r.endswith("|  |")]
    assert not unplaced, (
        f"resources whose component class was not found in components/ (its type token must be the first argument of super().__init__): {unplaced}"
    )
    assert set(docs_preview.component_files().values()) <= {
        str(p.relative_to(docs_parts.ROOT)) for p in (docs_parts.ROOT / "components").rglob("*.py")
    } | {"__main__.py"}
