"""What the workflows run next to the program installs only from the hash locks: every third-party
module that tools.promote (and what it imports of this repository) imports is in requirements.lock or
requirements/tools.lock. A tool importing a package only the dev set has would crash in the deploy
job (`ModuleNotFoundError` right before prod's update), which no offline run with the dev venv shows."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ("requirements.lock", "requirements/tools.lock")
ENTRY_PACKAGES = ("tools/promote",)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def locked_distributions() -> set[str]:
    names = set()
    for lock in LOCKS:
        names |= {normalized(m) for m in re.findall(r"^([A-Za-z0-9_.-]+)==", (ROOT / lock).read_text(), re.M)}
    return names


def module_path(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def third_party_imports() -> dict[str, str]:
    """Top-level third-party module -> a repository file that imports it, following the repository's
    own imports from the entry packages (imports under `if TYPE_CHECKING:` included: cheap to be strict)."""
    todo = [p for package in ENTRY_PACKAGES for p in sorted((ROOT / package).glob("*.py"))]
    seen: set[Path] = set()
    found: dict[str, str] = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in ("tools", "components"):
                    own = module_path(name)
                    if own is not None:
                        todo.append(own)
                        if own.name == "__init__.py":
                            todo.extend(sorted(own.parent.glob("*.py")))
                elif top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_module_the_promotion_tools_import_is_in_the_hash_locks():
    distributions = importlib.metadata.packages_distributions()
    locked = locked_distributions()
    missing = {
        module: where
        for module, where in third_party_imports().items()
        if not {normalized(d) for d in distributions.get(module, [module])} & locked
    }
    assert missing == {}, f"add them to requirements/tools.txt and regenerate requirements/tools.lock: {missing}"


def test_the_check_sees_the_tools_own_dependency():
    """ruamel.yaml is what the tools add to the program: drop its lock and the check must notice."""
    assert "ruamel" in third_party_imports()
    assert "ruamel-yaml" in locked_distributions()
