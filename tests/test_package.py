"""The package's face: every stage's entry point from `import cclib`, without TensorFlow."""

import subprocess
import sys


def test_every_exported_name_resolves_and_none_loads_tensorflow():
    probe = ("import sys, cclib\n"
             "missing = [n for n in cclib.__all__ if not hasattr(cclib, n)]\n"
             "assert not missing, missing\n"
             "assert set(cclib._LATER_STAGES) <= set(dir(cclib))\n"
             "sys.exit(1 if {'tensorflow', 'keras'} & set(sys.modules) else 0)")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


def test_an_unknown_name_is_an_attribute_error():
    import cclib

    try:
        cclib.no_such_stage
    except AttributeError as error:
        assert "no_such_stage" in str(error)
    else:
        raise AssertionError("cclib.no_such_stage resolved")


def test_tests_that_share_a_fixture_are_grouped_on_one_worker(request):
    """make test's workers (tests/conftest.py): a test that uses a shared session fixture is in
    the group of the first one it uses (notebook 07's, which uses the trials and the
    instrumentation experiment, with every test of either); under pytest-xdist's loadgroup
    each grouped test's id names its group (where it does not, as with pytest 9.2,
    pytest-xdist spreads a group over the workers)."""
    from conftest import SHARED_FIXTURES

    for item in request.session.items:
        used = [name for name in SHARED_FIXTURES if name in getattr(item, "fixturenames", ())]
        mark = item.get_closest_marker("xdist_group")
        if used:
            assert mark.args == (SHARED_FIXTURES[used[0]],), item.nodeid
        if mark and getattr(request.config.option, "loadgroup", False):
            assert item.nodeid.endswith(f"@{mark.args[0]}"), item.nodeid


def package_imports() -> dict:
    """Each module of cclib and the cclib modules it imports, wherever the import stands."""
    import ast
    from pathlib import Path

    import cclib

    graph = {}
    for path in sorted(Path(cclib.__file__).parent.glob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cclib"):
                parts = node.module.split(".")
                found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name.split(".")[1] for alias in node.names
                          if alias.name.startswith("cclib.")}
        graph[path.stem] = found - {path.stem}
    return graph


def test_the_package_has_no_import_cycle():
    graph = package_imports()
    state: dict = {}  # module → "open" while its imports are walked, "done" after

    def walk(module, trail):
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            assert state.get(other) != "open", " -> ".join(trail + [other])
            if other not in state:
                walk(other, trail + [other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert "model" in graph and "runtime" in graph["classify"]
