"""The tests' own layout: fixtures live in conftest.py files and are found by pytest, never imported; helpers
shared by tests live in console/testing; a test module never imports another test module."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "node_modules", "static", "var", ".git"}


def files_to_check() -> list[Path]:
    """Every Python file under a tests/ directory of the project, and every conftest.py."""
    found = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS & set(relative.parts) or any(part.startswith(".") for part in relative.parts):
            continue
        if "tests" in relative.parts[:-1] or path.name == "conftest.py":
            found.add(path)
    return sorted(found)


def is_test_module(name: str) -> bool:
    """A dotted module name of a conftest or a test module (`jobs.tests.conftest`, `.test_objects_services`)."""
    last = name.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def forbidden_imports(source: str, filename: str = "<test>") -> list[tuple[int, str]]:
    """(line, imported module) for every import of a conftest or a test module in `source`."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if is_test_module(module):
                found.append((node.lineno, module))
            else:  # `from jobs.tests import conftest`, `from . import test_pages`
                package = module if module.endswith(".") else f"{module}."
                found += [(node.lineno, package + alias.name) for alias in node.names if is_test_module(alias.name)]
    return found


def misplaced_helper(path: Path) -> bool:
    """A module under a tests/ directory that pytest neither collects nor loads as a conftest: a helper."""
    return path.name not in {"conftest.py", "__init__.py"} and not path.name.startswith("test_")


def test_the_project_has_test_modules_to_check():
    names = {path.relative_to(ROOT).as_posix() for path in files_to_check()}

    assert "conftest.py" in names and "console/tests/test_test_layout.py" in names


def test_no_test_module_or_conftest_imports_a_conftest_or_another_test_module():
    violations = [
        f"{path.relative_to(ROOT)}:{line} imports {module}: move the helper to console/testing, "
        "or the fixture to a conftest.py (fixtures are found by pytest, never imported)"
        for path in files_to_check()
        for line, module in forbidden_imports(path.read_text(), str(path))
    ]

    assert violations == [], "\n".join(violations)


def test_no_test_helper_lives_under_a_tests_directory():
    violations = [
        f"{path.relative_to(ROOT)}:1 is a helper module in a tests/ directory: move it to console/testing"
        for path in files_to_check()
        if misplaced_helper(path)
    ]

    assert violations == [], "\n".join(violations)


def test_the_helpers_in_console_testing_import_no_test_module():
    violations = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "console" / "testing").glob("*.py"))
        for line, module in forbidden_imports(path.read_text(), str(path))
    ]

    assert violations == [], "\n".join(violations)


# The check itself


def test_an_import_from_a_conftest_is_found_with_its_line():
    source = "import os\nfrom jobs.tests.conftest import fill\n"

    assert forbidden_imports(source) == [(2, "jobs.tests.conftest")]


def test_an_import_from_another_test_module_is_found_absolute_or_relative():
    source = (
        "from buckets.tests.test_objects_services import put\n"
        "from .test_pages import job_form\n"
        "from . import conftest\n"
        "import jobs.tests.test_api\n"
    )

    assert forbidden_imports(source) == [
        (1, "buckets.tests.test_objects_services"),
        (2, ".test_pages"),
        (3, ".conftest"),
        (4, "jobs.tests.test_api"),
    ]


def test_imports_of_helpers_and_of_the_code_under_test_are_allowed():
    source = (
        "from console.testing.jobs import fill\n"
        "from console.testing import waits\n"
        "from jobs.services import jobs as services\n"
        "import pytest\n"
    )

    assert forbidden_imports(source) == []


def test_a_module_in_a_tests_directory_is_a_helper_unless_pytest_loads_it():
    assert misplaced_helper(Path("jobs/tests/helpers.py"))
    assert not misplaced_helper(Path("jobs/tests/test_api.py"))
    assert not misplaced_helper(Path("jobs/tests/conftest.py"))
    assert not misplaced_helper(Path("jobs/tests/__init__.py"))
