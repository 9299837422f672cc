"""The package's ctypes structs against the C compiler's layout of include/manushya.h: the
size and every field offset of each struct the package declares (one list: _structs.STRUCTS,
from which both sides are printed)."""

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
    assert c_side == _structs.layout()
    assert len(c_side) == len(_structs.STRUCTS)


def test_versioned_structs_are_bound_at_a_version():
    assert _structs.mn_config().version == 3
    assert _structs.mn_memory_input().importance == -1.0  # MN_IMPORTANCE_DEFAULT
