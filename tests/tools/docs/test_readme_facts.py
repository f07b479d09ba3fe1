"""Facts the README and docs/measurements.md state that no generator can rewrite cheaply: the sample
report of `make demo` has exactly the lines a rehearsal prints today (numbers aside; the preview's
counts and cost estimate exactly), and every measured figure names the command that produced it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rehearsal_testkit import as_make_demo_prints, quick_demo

from tools.docs import cli as docs

ROOT = Path(__file__).resolve().parents[3]
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
REGENERATE = "run `python -m tools.docs --demo` and commit README.md"


@pytest.fixture(scope="module")
def quick_report():
    for module in ("lightgbm", "gunicorn", "uvicorn_worker", "aws_lambda_powertools"):
        pytest.importorskip(module, reason=f"the rehearsal needs {module}")
    workdir, done = quick_demo()  # the run tests/tools/rehearsal/test_rehearsal.py checks
    assert done.returncode == 0 and "Rehearsal report" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    assert tuple(done.args[2:5]) == docs.DEMO_COMMAND[2:], f"the session's quick run is not `{' '.join(docs.DEMO_COMMAND)}`"
    return as_make_demo_prints(workdir, done.stdout)


def test_the_readme_shows_the_report_the_rehearsal_prints(quick_report):
    sample = docs.readme_demo_sample((ROOT / "README.md").read_text())
    assert sample, "README.md has no fenced sample between the demo-sample markers"
    assert docs.report_shape(sample) == docs.report_shape(quick_report), (
        f"README's `make demo` sample no longer matches the rehearsal's report: {REGENERATE}"
    )
    # The offline preview is deterministic: its lines must match number for number.
    preview_lines = [line for line in quick_report.splitlines() if line.lstrip().startswith(("✅", "❌", "Cost estimate"))]
    assert preview_lines and all(line in sample.splitlines() for line in preview_lines), (
        f"the preview's counts or cost estimate changed: {REGENERATE}"
    )


def test_the_report_shape_ignores_numbers_but_not_words():
    # The README check compares shapes: a shape that hid words would let any sample pass.
    assert docs.report_shape("  test AUC 0.8236\n") == docs.report_shape("test AUC 0.7001")
    assert docs.report_shape("400/400 requests answered 200") == docs.report_shape("80/80 requests answered 200")
    assert docs.report_shape("gate dev: PASS") != docs.report_shape("gate dev: FAIL")
    assert docs.report_shape("a\nb") != docs.report_shape("a")
    # A sealed model's digest and S3 version id change with every run, like the numbers.
    first = "sha256 3faa9e5cb9a1767c00b8bd08df6a16b1b52d24b0b486d00c024bbeeabbe3c7ad, version be2660a6-683c-4d85-9164-61a2f500dcd9"
    second = "sha256 0c2e9ab2f61a1e7f5a0b8b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60, version 0d7e5f4a-1111-4222-8333-944455556666"
    assert docs.report_shape(first) == docs.report_shape(second) != docs.report_shape(first.replace("version", "versions"))


def test_the_mutation_tool_versions_are_generated_from_the_pins(tmp_path, monkeypatch):
    text = docs.mutation_tools()
    assert text.startswith("`mutmut==") and "`whatthepatch==" in text
    monkeypatch.setattr(docs, "ROOT", tmp_path)
    pins = tmp_path / docs.MUTATION_REQUIREMENTS
    pins.parent.mkdir(parents=True)
    pins.write_text("-r test.txt\nmutmut==9.9.9\nwhatthepatch==1.2.3\n")
    assert "`mutmut==9.9.9`" in docs.mutation_tools() and "`whatthepatch==1.2.3`" in docs.mutation_tools()
    pins.write_text("pytest==8\n")
    with pytest.raises(docs.DocsError, match="pins no mutmut, whatthepatch"):
        docs.mutation_tools()


def _measurement_rows() -> list[list[str]]:
    """The rows of the figures tables (header `what | result | how`); other tables break a figure down."""
    rows, header = [], None
    for line in (ROOT / "docs" / "measurements.md").read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif header == ["what", "result", "how"] and not set(cells[0]) <= set("-:"):
            rows.append(cells)
    return rows


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_every_measured_figure_names_a_command_that_exists():
    rows = _measurement_rows()
    assert rows, "docs/measurements.md has no measurement table"
    targets = _make_targets()
    for what, _, how in rows:
        commands = re.findall(r"`([^`]+)`", how)
        assert commands, f"docs/measurements.md: '{what}' does not say which command produced it"
        for command in commands:
            for module in re.findall(r"python -m ([\w.]+)", command):
                assert (ROOT / (module.replace(".", "/") + ".py")).exists() or (ROOT / module.replace(".", "/") / "__main__.py").exists(), (
                    f"docs/measurements.md: '{what}' names `{command}`, but there is no module {module}"
                )
            for target in re.findall(r"\bmake ([\w-]+)", command):
                assert target in targets, f"docs/measurements.md: '{what}' names `{command}`, but the Makefile has no target {target}"
            if command.startswith("bash "):
                assert (ROOT / command.split()[1]).exists(), (
                    f"docs/measurements.md: '{what}' names `{command}`, a script that does not exist"
                )


def test_the_sample_is_regenerated_from_a_real_run(monkeypatch, tmp_path):
    # --demo puts the rehearsal's own report between the markers, fenced, with where it came from.
    readme = tmp_path / "README.md"
    readme.write_text(f"top\n{docs.begin_marker('demo-sample')}\nold\n{docs.end_marker('demo-sample')}\nbottom\n")
    text = docs.replace_part(readme.read_text(), "demo-sample", docs.demo_sample("Rehearsal report\n  test AUC 0.8\n"), "README.md")
    assert docs.readme_demo_sample(text) == "Rehearsal report\n  test AUC 0.8\n"
    assert "`python -m tools.rehearsal --stack dev`" in text and text.startswith("top\n") and text.endswith("bottom\n")


def test_the_demo_command_is_what_make_demo_runs():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:.*\n\t\$\(PY\) -m tools\.rehearsal\s*$", makefile, re.M), (
        "make demo no longer runs tools.rehearsal.cli: update tools/docs/cli.py DEMO_COMMAND"
    )
    assert subprocess.run([sys.executable, "-m", "tools.rehearsal", "--help"], cwd=ROOT, capture_output=True).returncode == 0


def test_the_api_error_table_is_the_handlers_error_table():
    import importlib.util

    spec = importlib.util.spec_from_file_location("predict_errors_for_docs", ROOT / "containers" / "api" / "predict_errors.py")
    assert spec is not None and spec.loader is not None
    errors = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = errors  # dataclasses look their module up there
    spec.loader.exec_module(errors)
    text = (ROOT / "docs" / "api.md").read_text()
    documented = re.findall(r"^\| (\d{3}) \| `([a-z_]+)` \| .* \| `(\w+)` \|$", text, re.M)
    actual = [(str(k.status), k.code, k.metric) for k in errors.ALL_KINDS]
    assert documented == actual, "docs/api.md's error table (status, code, metric) differs from containers/api/predict_errors.ALL_KINDS"
