"""The fork server that runs several stacks' programs with the libraries imported once: what it
pre-imports, and that its children record exactly what a fresh interpreter records."""

from __future__ import annotations

import json
import os

import pytest

from tools.offline.program_server import ProgramServer, program_imports
from tools.offline.records import ROOT, stack_records


def test_it_preimports_the_libraries_the_program_imports_and_nothing_of_the_program():
    modules = program_imports(ROOT)
    assert {"pulumi", "pulumi_aws", "pulumi_aws.ec2", "pulumi_aws.sagemaker", "pulumi_docker", "pydantic"} <= set(modules)
    assert not [m for m in modules if m.split(".")[0] in {"components", "containers", "tools", "tests"}]
    assert "pandas" not in modules and "sagemaker" not in modules  # only where the definition is built


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork server needs os.fork")
def test_a_forked_run_records_what_a_fresh_interpreter_records(tmp_path):
    server = ProgramServer(ROOT, ROOT, os.environ)
    try:
        out = tmp_path / "dev.json"
        assert server.run(["--stack", "dev", "--program-dir", str(ROOT), "--out", str(out)], tmp_path / "stderr") == 0
        bad = server.run(["--stack", "staging", "--program-dir", str(ROOT), "--out", str(tmp_path / "x.json")], tmp_path / "stderr2")
    finally:
        server.close()
    # Registration order follows when outputs resolve: compare by URN.
    by_urn = lambda resources: sorted(resources, key=lambda r: r["urn"])  # noqa: E731
    assert by_urn(json.loads(out.read_text())["resources"]) == by_urn(stack_records("dev").resources)
    assert bad == 2 and "no stack 'staging'" in (tmp_path / "stderr2").read_text()
