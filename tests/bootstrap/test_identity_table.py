"""The identity table (bootstrap/access.py, shown in docs/gitops.md) holds: every "can" and every
"cannot" of every identity, evaluated against the policies bootstrap declares, in one account and
in two; and a role the program creates under its stack's boundary with AdministratorAccess attached
still cannot leave its stack, its region, or touch approval."""

from __future__ import annotations

import subprocess
import sys

import access
from bootstrap_records import BOOTSTRAP, ROOT
from table_check import bounded_failures, failures


def test_every_row_of_the_table_holds(layouts):
    assert failures(layouts.layout, layouts.policies) == []


def test_the_table_has_cannot_rows_for_every_identity_and_every_ci_role_a_can():
    layout = access.example_layout()
    for identity in access.identities():
        rows = access.rows(layout, identity)
        assert any(can for can, _, _ in rows) and sum(not can for can, _, _ in rows) >= 8, identity.key
        assert all(probes for _, _, probes in rows), identity.key


def test_a_program_role_with_administrator_access_stays_inside_its_stack(layouts):
    assert bounded_failures(layouts.layout, layouts.boundary) == []


def test_docs_show_the_generated_table():
    assert access.markdown_table() in (ROOT / "docs" / "gitops.md").read_text()


def test_the_table_script_prints_it():
    done = subprocess.run([sys.executable, str(BOOTSTRAP / "access.py")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == access.markdown_table()
