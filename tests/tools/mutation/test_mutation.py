"""tools/mutation (`make mutation`): what it mutates, where, and what it reports.

The end-to-end case runs the driver on a three-line module of a throw-away git repository, whose
mutants are known: two killed by its test, one it cannot notice."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.mutation import cli, equivalents
from tools.mutation.mutants import defines, mutants_of
from tools.mutation.run import pick, scratch_copy
from tools.mutation.targets import TARGETS, Target, select

ROOT = Path(__file__).resolve().parents[3]

CALC = "def over(a, b):\n    return a > b\n\n\ndef twice(x):\n    return x * 2\n"
TEST = "from calc import over, twice\n\n\ndef test_calc():\n    assert over(2, 1) and not over(1, 2)\n    assert twice(3) == 6\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def toy(tmp_path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "calc.py").write_text(CALC)
    (repo / "test_calc.py").write_text(TEST)
    (repo / ".gitignore").write_text("ignored.txt\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "toy")
    return repo


def test_the_scratch_copy_holds_the_working_tree_as_it_is_and_nothing_ignored(toy):
    (toy / "test_calc.py").write_text(TEST + "# edited\n")  # uncommitted edit
    (toy / "new_test.py").write_text("")  # untracked, not ignored
    (toy / "ignored.txt").write_text("")
    (toy / "calc.py").unlink()  # tracked, deleted
    scratch = scratch_copy(toy)
    try:
        copied = sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*") if p.is_file())
        assert copied == [".gitignore", "new_test.py", "test_calc.py"]
        assert (scratch / "test_calc.py").read_text().endswith("# edited\n")
    finally:
        shutil.rmtree(scratch)


def test_a_run_reports_killed_and_surviving_mutants_and_never_writes_the_working_tree(toy, tmp_path, monkeypatch, capsys):
    target = Target("toy", "toys", ("calc.py",), ("test_calc.py",))
    monkeypatch.setattr(cli, "ROOT", toy)
    monkeypatch.setattr(cli, "select", lambda names: [target])
    report = tmp_path / "report.json"
    assert cli.main(["--json", str(report), "--quiet"]) == 0
    assert (toy / "calc.py").read_text() == CALC
    assert subprocess.run(["git", "status", "--porcelain"], cwd=toy, capture_output=True, text=True).stdout == ""
    [run] = json.loads(report.read_text())["targets"]
    assert (run["mutants"], run["run"], run["killed"], run["timeout"], run["survived"]) == (3, 3, 2, 0, 1)
    assert run["score"] == 0.6667 and run["command"] == "python -m pytest -x -q -p no:cacheprovider test_calc.py"
    assert [(s["where"], s["original"], s["mutated"]) for s in run["survivors"]] == [("calc.py:2", "    return a > b", "    return a >= b")]
    text = capsys.readouterr().out
    assert "toy: 3 of 3 mutants, 2 killed, 0 timed out, 1 survived (0 listed as equivalent): score 67%" in text
    assert "SURVIVED calc.py:2: return a > b  ->  return a >= b" in text


def test_max_mutants_spreads_the_sample_and_survivors_of_reruns_only_those(toy, tmp_path, monkeypatch):
    target = Target("toy", "toys", ("calc.py",), ("test_calc.py",))
    monkeypatch.setattr(cli, "ROOT", toy)
    monkeypatch.setattr(cli, "select", lambda names: [target])
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    (toy / "test_calc.py").write_text(TEST + "    assert not over(1, 1)\n")  # the new test: kills `>=`
    first.write_text(
        json.dumps({"targets": [{"survivors": [{"where": "calc.py:2", "original": "    return a > b", "mutated": "    return a >= b"}]}]})
    )
    assert cli.main(["--survivors-of", str(first), "--json", str(second), "--quiet"]) == 0
    [run] = json.loads(second.read_text())["targets"]
    assert (run["run"], run["killed"], run["survived"]) == (1, 1, 0)
    assert cli.main(["--max-mutants", "2", "--json", str(second), "--quiet"]) == 0
    [run] = json.loads(second.read_text())["targets"]
    assert (run["mutants"], run["run"], run["killed"]) == (3, 2, 2)


def test_a_sample_is_spread_over_the_target_not_its_first_lines():
    assert pick(list(range(10)), 3) == [0, 3, 6]
    assert pick(list(range(4)), None) == pick(list(range(4)), 9) == [0, 1, 2, 3]


def test_a_target_whose_tests_fail_unmutated_is_refused(toy, monkeypatch, capsys):
    (toy / "test_calc.py").write_text(TEST.replace("== 6", "== 7"))
    monkeypatch.setattr(cli, "ROOT", toy)
    monkeypatch.setattr(cli, "select", lambda names: [Target("toy", "toys", ("calc.py",), ("test_calc.py",))])
    assert cli.main(["--quiet"]) == 1
    assert "does not pass on the unmutated copy" in capsys.readouterr().err


def test_an_unknown_target_exits_2_listing_the_known_ones(capsys):
    assert cli.main(["--target", "nope"]) == 2
    assert "--target: unknown nope; expected one of: alarms, api-alarms, codec" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--max-mutants", "0"], ["--timeout", "x"]])
def test_a_bound_that_is_not_a_positive_number_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2 and "expected a positive number" in capsys.readouterr().err


def test_every_target_names_files_that_exist_and_tests_that_import_them():
    assert len({t.name for t in TARGETS}) == len(TARGETS)
    for target in TARGETS:
        files = [p for pattern in target.files for p in ROOT.glob(pattern)]
        assert files, target.name
        for test in target.tests:  # a path, or a path::test_name
            path, _, name = test.partition("::")
            assert (ROOT / path).exists(), (target.name, test)
            assert not name or defines((ROOT / path).read_text(), name), (target.name, test)
        if target.functions:
            [path] = files
            assert all(defines(path.read_text(), f) for f in target.functions), target.name


def test_the_issue_s_parts_are_all_targets():
    files = {str(p.relative_to(ROOT)) for t in TARGETS for pattern in t.files for p in ROOT.glob(pattern)}
    expected = {
        "components/endpoint/release.py",
        "components/api/lambda_release.py",
        "components/shared/release_provider.py",
        "components/endpoint/alarms.py",
        "components/api/canary_api.py",
        "components/shared/iam.py",
        "components/training/access.py",
        "containers/model/churn/codec.py",
        *(str(p.relative_to(ROOT)) for p in ROOT.glob("policies/guardrails/*.py") if p.name != "__init__.py"),
        *(str(p.relative_to(ROOT)) for p in ROOT.glob("tools/promote/*.py")),
        *(str(p.relative_to(ROOT)) for p in ROOT.glob("containers/api/hooks/*.py")),
    }
    assert expected - files == set()
    assert [t.name for t in select(["release"])] == ["endpoint-release", "lambda-release", "release-provider"]


def test_the_documented_equivalents_are_the_table_in_docs_testing():
    assert equivalents.markdown_table() in (ROOT / "docs" / "testing.md").read_text()


def test_an_equivalent_matches_its_line_in_its_function_only():
    """codec.py writes the same line in `_refuse_field` (unreachable past the shape check) and in
    `_explain_json` (reachable): only the first is listed."""
    both = ("_refuse_field", "_explain_json")
    mutants = [
        m for m in mutants_of(ROOT, equivalents.CODEC, both) if m.original.strip().startswith("where = _column(feature_names, index)")
    ]
    scopes = {m.scope: bool(equivalents.reason_for(m)) for m in mutants}
    assert scopes == {"_refuse_field": True, "_explain_json": False}
