# -*- Python -*-
# lit configuration of the dist-opt regression tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "DISTOPT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.distopt_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%distopt_src_root", config.distopt_src_root))
# The build folder whose bin/ holds the tools (scripts that run them).
config.substitutions.append(("%distopt_obj_root", config.distopt_obj_root))
# Test models are exported at test time by Debian's PyTorch, which belongs to
# the system Python.
config.substitutions.append(("%python", "/usr/bin/python3"))
# Tests of the PyTorch training oracle (test/Training) say `REQUIRES: torch`:
# they run only where that interpreter imports torch, onnx and numpy.
import subprocess
if subprocess.call(["/usr/bin/python3", "-c", "import torch, onnx, numpy"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("torch")
# Multi-rank tests run under OpenMPI; as root it needs to be told it may,
# and --oversubscribe starts more ranks than the machine has cores.
config.substitutions.append(("%mpirun", "mpirun --oversubscribe"))
# A build instrumented with sanitizers (DISTOPT_SANITIZE) runs several times
# slower; the longest end-to-end checks say `UNSUPPORTED: sanitizers`
# (docs/building.md says which, and what covers their code instead).
if getattr(config, "distopt_sanitize", ""):
    config.available_features.add("sanitizers")
# The HTML plan report is rendered by a headless browser where there is one
# (test/Plan/report-html.test says `REQUIRES: chromium`).
if os.path.exists("/usr/bin/chromium"):
    config.available_features.add("chromium")
config.environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
config.environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
config.substitutions.append(
    ("%models", os.path.join(config.distopt_src_root, "models")))

llvm_config.use_default_substitutions()
llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
# Variables captured in one CHECK-LABEL block must not leak into the next.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope"

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.distopt_tools_dir, config.llvm_tools_dir]
tools = ["dist-opt", "dist-run", "dist-calibrate"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
