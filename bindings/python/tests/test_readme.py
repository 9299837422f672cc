"""The README's Python example, run as written: the first ```python block of its "## Python"
section, in a fresh directory, with the package and library these tests use."""

import os
import re
import subprocess
import sys

from test_layout import TOP


def readme_example():
    with open(os.path.join(TOP, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"^```python\n(.*?)^```", section, re.S | re.M).group(1)


def test_readme_example_runs_as_written(tmp_path):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 10
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines and re.fullmatch(r"0\.\d\d The customer prefers green tea", lines[0]), r.stdout
    assert all(re.fullmatch(r"-?\d\.\d\d .+", line) for line in lines)
    assert (tmp_path / "memories.db").exists()
