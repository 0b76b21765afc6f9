"""The package installs with pip (network-free) and imports from the installed copy."""

import importlib.util
import os
import subprocess
import sys

import pytest

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _can_build_wheels():
    try:
        import setuptools
    except ImportError:
        return False
    version = tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit())
    # setuptools builds wheels by itself from 70.1 on; before, it needs the `wheel` package.
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.skipif(not _can_build_wheels(),
                    reason="offline install needs setuptools>=70.1 or the wheel package")
def test_pip_install_into_a_target_dir(tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--target", str(target), PACKAGE_ROOT],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import heapd, sys; print(heapd.__file__, heapd.__version__)"],
        capture_output=True, text=True, cwd=str(tmp_path),
        env=dict(os.environ, PYTHONPATH=str(target)), timeout=60)
    assert check.returncode == 0, check.stderr
    assert str(target) in check.stdout and "0.1.0" in check.stdout
