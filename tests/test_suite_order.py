"""The suite's own scheduling names real files (a renamed file would silently lose its place)."""

from __future__ import annotations

from suite_order import LONGEST_FIRST, NOT_POLICY_UNIT_MODULES, POLICY_TESTS, POLICY_UNITS_SCOPE, scope_of

from tools.repository import ROOT


def test_every_file_run_first_exists():
    assert [path for path in LONGEST_FIRST if not (ROOT / path).is_file()] == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)


def test_the_policy_unit_modules_and_their_coverage_check_go_to_one_worker():
    modules = sorted(path.name for path in (ROOT / POLICY_TESTS).glob("test_*.py"))
    assert NOT_POLICY_UNIT_MODULES <= set(modules)  # a renamed module would join the units unseen
    together = {name for name in modules if scope_of(f"{POLICY_TESTS}{name}::test_x") == POLICY_UNITS_SCOPE}
    assert together == set(modules) - NOT_POLICY_UNIT_MODULES and "test_pack.py" in together
    assert scope_of(f"{POLICY_TESTS}test_real_program_violations.py::test_x[row]") == f"{POLICY_TESTS}test_real_program_violations.py"
    assert scope_of("tests/policies/config/test_x.py::test_y") == "tests/policies/config/test_x.py"
    assert scope_of("tests/tools/rehearsal/test_rehearsal.py::test_x") == "tests/tools/rehearsal/test_rehearsal.py"
