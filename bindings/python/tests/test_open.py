"""Loading the library, opening and closing, config keys, and the exception classes."""

import os
import subprocess
import sys

import pytest

import manushya
from manushya import _lib, errors


def test_library_version_is_the_headers():
    assert manushya.library_version().startswith("1.")


def test_config_keys_reach_the_handle(tmp_path):
    with manushya.open(str(tmp_path / "a.db"), embed_dim=64, pool_size=2,
                       search_mode=2) as db:
        assert db.embed_dim == 64
    with manushya.open(str(tmp_path / "a.db")) as db:  # fixed at creation
        assert db.embed_dim == 64


def test_unknown_config_key_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="unknown config key 'embed_dimension'"):
        manushya.open(str(tmp_path / "a.db"), embed_dimension=64)
    with pytest.raises(TypeError):
        manushya.open(str(tmp_path / "a.db"), log_fn=1)
    with pytest.raises(TypeError, match="config key 'embed_dim'"):
        manushya.open(str(tmp_path / "a.db"), embed_dim="64")
    assert not (tmp_path / "a.db").exists()


def test_open_failure_raises_with_the_librarys_message(tmp_path):
    with pytest.raises(manushya.InvalidArgument) as e:
        manushya.open(str(tmp_path / "b.db"), embed_dim=-5)
    assert e.value.code == 2 and "embed_dim" in e.value.message
    with pytest.raises(manushya.NotFound):
        manushya.open(str(tmp_path / "missing.db"), flags=0x2)  # MN_OPEN_NOCREATE


def test_close_twice_and_use_after_close(tmp_path):
    db = manushya.open(str(tmp_path / "c.db"))
    with db:
        db.tenants.create("acme")
    assert db.closed
    db.close()  # nothing is released twice
    with pytest.raises(manushya.InvalidArgument, match="closed"):
        db.tenants.list()


def test_bad_input_changes_nothing(tmp_path):
    with manushya.open(str(tmp_path / "d.db")) as db:
        with pytest.raises(manushya.InvalidArgument) as e:
            db.tenants.create("bad name!")
        assert "name" in e.value.message
        assert db.tenants.list() == []
        db.tenants.create("acme")
        with pytest.raises(manushya.NotFound):
            db.actor("acme", "nobody").memories.add("x")
        with pytest.raises(manushya.InvalidArgument):
            db.actor("acme").memories.add("x", metadata="[not an object")
        assert list(db.actor("acme").memories.list()) == []


def test_every_code_has_its_class():
    assert sorted(errors.BY_CODE) == list(range(1, 13))
    for code, cls in errors.BY_CODE.items():
        e = errors.error_for(code, "m")
        assert type(e) is cls and e.code == code and e.message == "m"
        assert isinstance(e, manushya.Error)
    assert isinstance(errors.error_for(2, "m"), ValueError)
    assert isinstance(errors.error_for(3, "m"), LookupError)
    assert type(errors.error_for(99, "m")) is manushya.Error  # a code of a newer library


def _import_with(env_library):
    env = dict(os.environ, MANUSHYA_LIBRARY=env_library)
    return subprocess.run([sys.executable, "-c", "import manushya; manushya.library_version()"],
                          env=env, capture_output=True, text=True)


def test_a_library_that_is_not_there_is_a_clear_import_error(tmp_path):
    r = _import_with(str(tmp_path / "nope.so"))
    assert r.returncode != 0
    assert "cannot load libmanushya" in r.stderr and "MANUSHYA_LIBRARY" in r.stderr


def test_the_runtime_version_is_checked():
    _lib.check_version(10300, "x")
    _lib.check_version(10912, "x")  # a later 1.x: its structs only grew at the end
    for older_or_other_major in (10299, 10000, 20000, 3):
        with pytest.raises(ImportError, match="needs 1.3 or a later 1.x"):
            _lib.check_version(older_or_other_major, "libmanushya.so.1")
