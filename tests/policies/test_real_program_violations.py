"""Every policy fires on the REAL program changed the way a careless change would.

The rows are in real_program_cases.py; program_mutations.py runs them (one program copy and one
`python -m tools.preview` per (stack, run), in parallel). Each row asserts the exact policy,
enforcement level and resource URN, and that the shipped program does not have that finding
(so it is the change that caused it).
"""

from __future__ import annotations

import sys

import pytest
from policy_testkit import PACK_DIR
from program_mutations import Edit, MutationError, apply, copy_program, run_all
from real_program_cases import VIOLATIONS

from tools.offline.records import ROOT

sys.path.insert(0, str(PACK_DIR))
from guardrails import ALL_POLICIES

# States the cost estimate on every preview, advisory in every stack: the shipped program always has
# its finding; its row shows that a change changes what it states.
INFORMATIONAL = ALWAYS_ADVISORY = {"cost-estimate"}


def test_every_policy_has_a_real_program_violation():
    """Reads the table itself, so it holds when run alone."""
    covered = {row.policy for row in VIOLATIONS}
    assert {p.name for p in ALL_POLICIES} - covered == set(), "policies without a real-program violation row"
    assert covered - {p.name for p in ALL_POLICIES} == set(), "rows naming a policy the pack does not have"


def test_every_prod_policy_is_shown_mandatory():
    shown = {r.policy for r in VIOLATIONS if r.stack == "prod" and r.level == "mandatory"}
    assert {p.name for p in ALL_POLICIES} - ALWAYS_ADVISORY - shown == set()
    assert all(r.level == "advisory" for r in VIOLATIONS if r.policy in ALWAYS_ADVISORY)


@pytest.fixture(scope="session")
def runs(tmp_path_factory, shipped_previews):
    outputs = {stack: result["outputs"] for stack, result in shipped_previews[1].items()}
    return run_all(VIOLATIONS, tmp_path_factory.mktemp("mutated"), outputs)


@pytest.mark.parametrize("row", VIOLATIONS, ids=str)
def test_the_real_program_violates_the_policy(row, runs, shipped_previews):
    run = runs[row.key]
    error = run.result.get("summary", {}).get("error") if run.result else run.stderr[-2000:]
    assert not error, f"the mutated program did not run: {error[-2000:]}"
    found = run.found(row.policy, row.urn)
    others = sorted({(v["policy"], v["urn"].rsplit("::", 1)[-1]) for v in run.result["violations"]})
    assert found, f"{row.policy} reported nothing on {row.urn or 'the stack'}; the run found: {others}"
    assert {v["level"] for v in found} == {row.level}, found
    # Blocked exactly when a mandatory policy fired: the exit code a CI job acts on.
    mandatory = any(v["level"] == "mandatory" for v in run.result["violations"])
    assert run.returncode == (1 if mandatory else 0), run.stderr[-2000:]
    shipped = shipped_previews[1][row.stack]
    before = [v["message"] for v in shipped["violations"] if v["policy"] == row.policy and v["urn"] == row.urn]
    if row.policy in ALWAYS_ADVISORY:  # reported on every stack: the change must change what it states
        assert before and before != [v["message"] for v in found], "the finding does not reflect the change"
    else:
        assert not before, "the shipped program already has it"


def test_a_mutation_that_no_longer_applies_fails_loudly(tmp_path):
    program = copy_program(tmp_path)
    with pytest.raises(MutationError, match="expected 1 occurrence.*found it in no file"):
        apply(program, [Edit("text that is not in the program", "x")])
    with pytest.raises(MutationError, match="expected 1 occurrence"):
        apply(program, [Edit("enable_key_rotation=True,", "x", path="components/shared/secure_bucket.py")])


def test_the_how_to_in_the_docs_matches_the_harness():
    """docs/policies.md, "Testing a new policy against the real program", shows a real row and the real helpers."""
    import inspect

    import program_mutations
    import real_program_cases

    doc = (ROOT / "docs" / "policies.md").read_text()
    section = doc[doc.index("## Testing a new policy against the real program") :]
    example = section[section.index("```python") + len("```python") : section.index("```", section.index("```python") + 3)]
    table = inspect.getsource(real_program_cases)
    for line in filter(None, (line.strip() for line in example.splitlines())):
        assert line in table, line
    assert "def added(policy: str, name_and_type: str)" in table and "ADDED_RESOURCES = Append(" in table
    assert [f.name for f in program_mutations.Edit.__dataclass_fields__.values()] == ["old", "new", "count", "path"]
    assert 'run: str = "careless"' in inspect.getsource(program_mutations.Violation)
