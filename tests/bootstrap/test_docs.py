"""docs/bootstrap.md stays true: its configuration table lists exactly the keys bootstrap reads, its
OIDC command is the one bootstrap prints, and the CSV header is the model's schema."""

from __future__ import annotations

import re
import sys

from access import DEFAULT_ENVIRONMENTS
from bootstrap_records import BOOTSTRAP, ROOT
from layout import oidc_subject_command

DOC = (ROOT / "docs" / "bootstrap.md").read_text()


def test_the_configuration_table_lists_the_keys_bootstrap_reads():
    source = (BOOTSTRAP / "settings.py").read_text()
    read = set(re.findall(r'(?:text|mapping|config\.get(?:_bool|_object)?)\("(\w+)"', source))
    read |= {f"{key}Environment" for key in DEFAULT_ENVIRONMENTS}  # read in one loop
    table = DOC.split("## Configuration", 1)[1].split("\n\n", 2)[1]
    documented = set(re.findall(r"`(\w+)`", "\n".join(line.split("|")[1] for line in table.splitlines()[2:])))
    assert read == documented


def test_the_oidc_command_is_the_one_bootstrap_prints():
    assert oidc_subject_command("OWNER/REPO") in DOC


def test_the_data_format_is_the_models_schema():
    sys.path.insert(0, str(ROOT / "containers" / "model"))
    from churn.schema import RAW_COLUMNS

    assert f"\n   {','.join(RAW_COLUMNS)}\n" in DOC
    assert (ROOT / "containers" / "model" / "bin" / "generate-data").exists()
