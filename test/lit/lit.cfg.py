# lit configuration for dlc: IR tests of the importer, the dialect and every pass.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "dlc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dlc_obj_root, "test", "lit")

# The sanitizer builds (scripts/sanitize.sh) set how reports are handled.
llvm_config.with_system_environment(["HOME", "PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"])
llvm_config.use_default_substitutions()
llvm_config.add_tool_substitutions(["dlc-opt", "dlc-run"], [config.dlc_tools_dir])
# `dlc` is also a word in the tests (`--emit dlc`), so the driver is spelled %dlc.
config.substitutions.append(("%dlc", os.path.join(config.dlc_tools_dir, "dlc")))
llvm_config.add_tool_substitutions(["FileCheck", "not", "count"], [config.llvm_tools_dir])
