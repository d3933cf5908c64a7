"""Every script of bench/, experiments/ and tools/ still runs against the package: its --help.

They are not part of the package, so nothing else imports them; a change to cclib that
breaks one (a moved function, a renamed argument) fails here instead of months later.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(path.relative_to(ROOT) for folder in ("bench", "experiments", "tools")
                 for path in (ROOT / folder).glob("*.py"))


def test_there_are_scripts_to_check():
    assert {path.parts[0] for path in SCRIPTS} == {"bench", "experiments", "tools"}


@pytest.mark.parametrize("script", SCRIPTS, ids=str)
def test_a_script_runs_from_the_repository_root(script):
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:")
