"""Tests of the Python package's packaging (python/pyproject.toml) and of its installation by
`cmake --install`: `pip install` and `pip wheel` of python/, offline, with this environment's pip
and the setuptools and wheel it has (--no-build-isolation --no-index: nothing is downloaded);
the installed copy's version is the CMake project's; it imports without libjoulebench and
measures with it.  `cmake --install` of the build folder into a temporary prefix puts the package
and the workloads under share/joulebench/ and points the package at the installed library
(_installed.py), so a Monitor works there with only PYTHONPATH set.  python/ is copied first:
a build inside the source tree would leave build/ and *.egg-info there."""

import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import SOURCE_DIR

LIB = os.environ.get("JOULEBENCH_LIBRARY")
BUILD = os.environ.get("JB_BUILD_DIR")

PROBE = ("import joulebench as jb, joulebench._lib as l, sys\n"
         "print('version', jb.__version__)\n"
         "print('file', jb.__file__)\n"
         "if len(sys.argv) > 1:\n"
         "    with jb.Monitor('sim:const=100') as mon:\n"
         "        with mon.window('w') as w: pass\n"
         "    print('lib', l.library_path())\n"
         "    print('simulated', w.measurement.simulated)\n")


def cmake_version():
    """The one version: JB_VERSION_MAJOR/MINOR/PATCH in include/joulebench.h, which CMake's
    project(VERSION) reads."""
    with open(os.path.join(SOURCE_DIR, "include", "joulebench.h")) as f:
        text = f.read()
    return ".".join(re.search(r"^#define JB_VERSION_%s (\d+)$" % part, text, re.M).group(1)
                    for part in ("MAJOR", "MINOR", "PATCH"))


def pip(*args, cwd):
    out = subprocess.run([sys.executable, "-m", "pip", *args, "--no-build-isolation",
                          "--no-index", "--disable-pip-version-check", "--no-cache-dir"],
                         cwd=cwd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def probe(pythonpath, env_extra=None, measure=False, cwd=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JOULEBENCH_LIBRARY")}
    env["PYTHONPATH"] = pythonpath
    env.update(env_extra or {})
    args = [sys.executable, "-c", PROBE] + (["measure"] if measure else [])
    out = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


@pytest.fixture
def src(tmp_path):
    dst = tmp_path / "src"
    shutil.copytree(os.path.join(SOURCE_DIR, "python"), dst,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    return dst


def test_pip_install(tmp_path, src):
    target = tmp_path / "site"
    pip("install", "--target", str(target), str(src), cwd=tmp_path)
    got = probe(str(target), cwd=tmp_path)
    assert got["version"] == cmake_version()
    assert got["file"].startswith(str(target))
    if LIB:
        got = probe(str(target), {"JOULEBENCH_LIBRARY": LIB}, measure=True, cwd=tmp_path)
        assert got["lib"] == LIB and got["simulated"] == "True"


def test_wheel(tmp_path, src):
    dist = tmp_path / "dist"
    pip("wheel", "-w", str(dist), str(src), cwd=tmp_path)
    (whl,) = list(dist.glob("joulebench-*.whl"))
    assert whl.name == "joulebench-%s-py3-none-any.whl" % cmake_version()
    names = zipfile.ZipFile(whl).namelist()
    for mod in ("__init__", "client", "monitor", "_lib"):
        assert "joulebench/%s.py" % mod in names
    assert not any("_installed" in n or "test" in n for n in names)
    target = tmp_path / "site"
    pip("install", "--target", str(target), str(whl), cwd=tmp_path)
    assert probe(str(target), cwd=tmp_path)["version"] == cmake_version()


@pytest.mark.skipif(not BUILD or not shutil.which("cmake"), reason="JB_BUILD_DIR not set")
def test_cmake_install(tmp_path):
    prefix = tmp_path / "prefix"
    out = subprocess.run(["cmake", "--install", BUILD, "--prefix", str(prefix)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    share = prefix / "share" / "joulebench"
    pkg = share / "python" / "joulebench"
    for mod in ("__init__", "client", "monitor", "_lib", "_installed"):
        assert (pkg / (mod + ".py")).is_file(), mod
    assert not (pkg / "__pycache__").exists()
    for wl in ("common/cli.py", "common/driver.py", "pytorch/train.py", "jax/train.py",
               "tensorflow/train.py", "native/train.py"):
        assert (share / "workloads" / wl).is_file(), wl
    libs = list((prefix / "lib").glob("libjoulebench.so.0")) + list(
        (prefix / "lib").glob("*/libjoulebench.so.0"))
    assert libs
    text = (pkg / "_installed.py").read_text()
    assert 'LIBRARY = "%s"' % libs[0] in text
    # Found through _installed.py alone: no JOULEBENCH_LIBRARY, no loader path to it.
    got = probe(str(share / "python"), {"LD_LIBRARY_PATH": ""}, measure=True, cwd=tmp_path)
    assert got["lib"] == str(libs[0]) and got["simulated"] == "True"
    assert got["version"] == cmake_version()
    # The installed workloads find the installed package beside them (share/joulebench/python).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c",
                          "import runpy, sys; sys.argv = ['train.py', '--help'];"
                          "runpy.run_path(%r, run_name='__main__')"
                          % str(share / "workloads" / "pytorch" / "train.py")],
                         env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0 and "--batch-size" in out.stdout, out.stderr
    # ... as train.py puts them on sys.path (_ROOT and _ROOT/python): the driver imports it.
    out = subprocess.run([sys.executable, "-c",
                          "import sys; sys.path[0:0] = [%r, %r]\n"
                          "import workloads.common.driver, joulebench; print(joulebench.__file__)"
                          % (str(share), str(share / "python"))],
                         env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(pkg / "__init__.py")
    # The manifest lists the file written at install time, so it is uninstalled with the rest.
    with open(os.path.join(BUILD, "install_manifest.txt")) as f:
        assert str(pkg / "_installed.py") in f.read().split("\n")
