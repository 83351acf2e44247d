"""Builds the native module ifmesh._ifmesh with the repository's CMake project (the python/
folder must sit in the ifmesh source tree) and installs it with the ifmesh package.

IFMESH_BUILD_DIR reuses an existing CMake build folder (faster than a fresh build of the
library); CMAKE_BUILD_PARALLEL_LEVEL sets the build's jobs (default 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        if not (ROOT / "CMakeLists.txt").exists() or not (ROOT / "include" / "ifmesh").is_dir():
            raise RuntimeError(f"{ROOT} is not the ifmesh source tree: build from its python/")
        build_dir = Path(os.environ.get("IFMESH_BUILD_DIR") or
                         Path(self.build_temp).resolve() / "cmake")
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir),
                     "-DIFMESH_BUILD_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}"]
        if not os.environ.get("IFMESH_BUILD_DIR"):
            configure += ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DIFMESH_BUILD_TESTS=OFF"]
        try:
            import pybind11  # Debian's python3-pybind11, seen through --system-site-packages

            configure.append(f"-Dpybind11_DIR={pybind11.get_cmake_dir()}")
        except ImportError:
            pass  # pybind11-dev's /usr/lib/cmake/pybind11
        subprocess.run(configure, check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "ifmesh_python",
                        "-j", jobs], check=True)
        built = sorted((build_dir / "python" / "ifmesh").glob("_ifmesh*.so"))
        if not built:
            raise RuntimeError(f"the build left no _ifmesh module in {build_dir}/python/ifmesh")
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], dest)
        # The debug info (most of the module's ~24 MB) stays in the build folder's copy.
        if shutil.which("strip"):
            subprocess.run(["strip", "--strip-debug", str(dest)], check=True)


setup(ext_modules=[CMakeExtension("ifmesh._ifmesh")], cmdclass={"build_ext": CMakeBuild})
