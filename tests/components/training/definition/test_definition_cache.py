"""The definition cache is keyed on every generator source file: editing any of them (not only
pipeline_definition.py) is a new key, so a preview never reuses a definition the code no longer makes."""

from __future__ import annotations

import ast
import shutil

from pipeline_testkit import make_args

from components.training.definition import cache as definition_cache
from components.training.definition import definition as pipeline_definition
from tools.offline.records import ROOT


def test_every_module_the_definition_is_built_from_is_a_generator_source():
    names = {p.name for p in pipeline_definition.GENERATOR_SOURCES}
    assert {
        "definition.py",
        "steps.py",
        "training_step.py",
        "sdk.py",
        "args.py",
        "layout.py",
    } <= names
    # Any components module the generator imports must be listed, or its edits would hit a stale cache.
    imported = set()
    for source in pipeline_definition.GENERATOR_SOURCES:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("components."):
                package = ROOT.joinpath(*node.module.split("."))
                imported |= {f"{a.name}.py" for a in node.names if (package / f"{a.name}.py").exists()}
                if package.with_suffix(".py").exists():
                    imported.add(package.with_suffix(".py").name)
    assert "args.py" in imported
    assert imported <= names


def test_a_change_to_any_source_file_is_a_new_key(tmp_path):
    copies = []
    for source in pipeline_definition.GENERATOR_SOURCES:
        copy = tmp_path / source.name
        shutil.copy(source, copy)
        copies.append(copy)
    args = make_args()
    key = definition_cache.cache_key(args, copies)
    assert definition_cache.cache_key(args, list(reversed(copies))) == key  # order does not matter
    for copy in copies:
        original = copy.read_text()
        copy.write_text(original + "\n# edited\n")
        assert definition_cache.cache_key(args, copies) != key, f"editing {copy.name} kept the cache key"
        copy.write_text(original)
    assert definition_cache.cache_key(args, copies) == key
    assert definition_cache.cache_key(make_args(min_auc=0.8), copies) != key


def test_cached_builds_once_per_key(tmp_path, monkeypatch):
    monkeypatch.setenv(definition_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    calls = []

    def build(args):
        calls.append(args)
        return '{"Version":"2020-12-01"}'

    sources = pipeline_definition.GENERATOR_SOURCES
    assert definition_cache.cached(build, make_args(), sources) == '{"Version":"2020-12-01"}'
    assert definition_cache.cached(build, make_args(), sources) == '{"Version":"2020-12-01"}'
    assert len(calls) == 1
    definition_cache.cached(build, make_args(min_auc=0.9), sources)
    assert len(calls) == 2
