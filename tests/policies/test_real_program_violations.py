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
from program_mutations import Edit, MutationError, Violation, apply, attribution_problem, copy_program, groups_of, run_all, unit_codes
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
    run = runs.full[row.key]
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
    # Proven alone: the finding appears in exactly the probe runs that apply this row's own edit.
    probes = runs.probes[row.key]
    for probe in probes:
        assert probe.result and not probe.result.get("summary", {}).get("error"), f"a probe run failed: {probe.stderr[-2000:]}"
    if row.policy not in ALWAYS_ADVISORY:
        problem = attribution_problem(row, groups_of(VIOLATIONS)[row.key], [bool(p.found(row.policy, row.urn)) for p in probes])
        assert problem is None, problem


def test_unit_codes_are_distinct_and_none_contains_another():
    for count in range(1, 80):
        codes = unit_codes(count)
        assert len(codes) == count
        if count > 1:
            assert len(set(codes)) == count and len({len(c) for c in codes}) == 1
            assert not any(a < b for a in codes for b in codes)


def test_a_row_whose_finding_another_edit_produces_fails_attribution():
    """The meta-test: attribution refuses a finding that is not the row's own edit's."""
    own, other, third = Edit("a", "b"), Edit("c", "d"), Edit("e", "f")
    group = [Violation("p", "x", (own,)), Violation("q", "y", (other,)), Violation("r", "z", (third,))]
    row = group[0]
    codes = unit_codes(3)
    alone = [b in codes[0] for b in range(3)]
    assert attribution_problem(row, group, alone) is None
    either = [b in codes[0] or b in codes[1] for b in range(3)]  # the other edit also produces it
    assert "another edit of the run produces it" in attribution_problem(row, group, either)
    both = [b in codes[0] and b in codes[1] for b in range(3)]  # it needs the other edit too
    assert "does not produce it" in attribution_problem(row, group, both)
    always = [True, True, True]  # the context, not the row's edit, produces it
    assert attribution_problem(row, group, always) is not None


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
