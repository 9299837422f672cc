"""The package's ctypes structs against the C compiler's layout of include/manushya.h: every
field offset of each struct the package declares, and its size (one list: _structs.STRUCTS,
from which both sides are printed). A struct grows at its end in later 1.x versions, while the
package binds the version it was written for: the header's may be larger, never smaller."""

import os
import shutil
import subprocess

import pytest

from manushya import _structs

TOP = os.environ.get("MN_TOP") or os.path.join(os.path.dirname(__file__), "..", "..", "..")


def test_structs_match_the_c_header(tmp_path):
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc):
        pytest.fail("no C compiler (%s): scripts/deps.sh installs build-essential" % cc)
    src = tmp_path / "layout.c"
    src.write_text(_structs.layout_c())
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror", "-I", os.path.join(TOP, "include"),
                    "-o", str(exe), str(src)], check=True)
    c_side = subprocess.run([str(exe)], check=True, capture_output=True,
                            text=True).stdout.splitlines()
    py_side = _structs.layout()
    assert len(c_side) == len(py_side) == len(_structs.STRUCTS)
    for c_line, py_line in zip(c_side, py_side):
        c_name, c_size, c_fields = c_line.split(" ", 2)
        py_name, py_size, py_fields = py_line.split(" ", 2)
        assert (c_name, c_fields) == (py_name, py_fields)
        assert int(c_size) >= int(py_size), c_name


def test_versioned_structs_are_bound_at_a_version():
    assert _structs.mn_config().version == 3
    assert _structs.mn_memory_input().importance == -1.0  # MN_IMPORTANCE_DEFAULT
