"""The guard on the tests that read ../shared (`needs_shared` in tests/paths.py, the hooks in tests/conftest.py):
where ../shared exists, such a test fails instead of skipping, whatever raised the skip and whatever its reason
says; where it is absent, the test skips. And no test skips on a ../shared path any other way."""

import ast
from pathlib import Path

from . import paths

TESTS = Path(__file__).resolve().parent
SKIPS = {"pytest.mark.skipif", "pytest.skip", "pytest.importorskip", "pytest.xfail", "pytest.mark.xfail"}

INNER_TESTS = """
import pytest

from tests.paths import SHARED, needs_shared


@needs_shared(SHARED / "present.txt")
def test_present():
    assert (SHARED / "present.txt").exists()


@needs_shared(SHARED / "moved.txt")
def test_moved():
    pass


@needs_shared(SHARED / "*.txt")
def test_skips_itself():
    pytest.skip("a reason that names nothing in particular")


@pytest.mark.skipif(True, reason="unrelated to ../shared")
def test_unrelated():
    pass
"""


def run_guarded(pytester, monkeypatch, shared: Path):
    monkeypatch.setattr(paths, "SHARED", shared)
    pytester.makeconftest(
        "from tests.conftest import pytest_configure, pytest_runtest_makereport, pytest_runtest_setup"
    )
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rfEs")
    return result


def test_where_shared_exists_a_test_that_reads_it_never_skips(pytester, monkeypatch, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "present.txt").write_text("")
    result = run_guarded(pytester, monkeypatch, shared)
    # a skip at set-up (the file is missing) is an error, one in the test a failure: either fails the run
    result.assert_outcomes(passed=1, errors=1, failed=1, skipped=1)
    message = f"{shared} exists but this test, which reads it, was skipped: "
    result.stdout.fnmatch_lines_random(
        [
            "ERROR test_inner.py::test_moved*",
            f"{message}reads {shared / 'moved.txt'} from ../shared, absent here",
            "FAILED test_inner.py::test_skips_itself*",
            f"{message}a reason that names nothing in particular",
            "SKIPPED * unrelated to ../shared",
        ]
    )


def test_where_shared_is_absent_a_test_that_reads_it_skips(pytester, monkeypatch, tmp_path):
    result = run_guarded(pytester, monkeypatch, tmp_path / "shared")
    result.assert_outcomes(skipped=4)


def shared_names(tree: ast.Module) -> set[str]:
    """The module-level names that hold a ../shared path or something read from one (e.g. ``REAL_NTU =
    sorted((REAL_SAMPLES / "ntu_rgbd").glob(...))``)."""
    names = {"SHARED", "REAL_SAMPLES", "FACTS"}
    assignments = [node for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value]
    grown = True
    while grown:
        grown = False
        for node in assignments:
            if {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)} & names:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                new = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)} - names
                names |= new
                grown = grown or bool(new)
    return names


def unguarded_skips(source: str) -> list[int]:
    """Lines of skips that depend on a ../shared name: a skip call naming one, or a skip under an ``if`` that
    tests one."""
    tree = ast.parse(source)
    names = shared_names(tree)

    def uses(node) -> bool:
        return bool({n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & names)

    def skips(node) -> list[ast.Call]:
        return [n for n in ast.walk(node) if isinstance(n, ast.Call) and ast.unparse(n.func) in SKIPS]

    lines = [call.lineno for call in skips(tree) if uses(call)]
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and uses(node.test):
            lines += [call.lineno for branch in (node.body, node.orelse) for n in branch for call in skips(n)]
    return sorted(set(lines))


def test_no_test_skips_on_a_shared_path_without_needs_shared():
    offenders = {
        path.name: lines for path in sorted(TESTS.glob("*.py")) if (lines := unguarded_skips(path.read_text()))
    }
    assert not offenders, f"skips on ../shared paths that the conftest cannot guard; use needs_shared: {offenders}"
    # the check itself finds the two forms
    assert unguarded_skips(
        "from .paths import REAL_SAMPLES\nREAL = sorted(REAL_SAMPLES.glob('*'))\n"
        "mark = pytest.mark.skipif(not REAL, reason='no wording rule')\n"
        "def test():\n    if not REAL:\n        pytest.skip('x')\n"
    ) == [3, 6]
