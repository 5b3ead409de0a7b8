//===- Compiler.h - The compiler driver (internal) --------------*- C++ -*-===//
//
// Stages of `dlc compile`: import, graph passes and kernel formation, the plan, kernel
// codegen. Each stage can stop and print its IR (--emit). Errors are MLIR diagnostics;
// the public API (include/dlc/dlc.h) turns them into Status values.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_COMPILER_COMPILER_H
#define DLC_LIB_COMPILER_COMPILER_H

#include "dlc/artifact.h"
#include "dlc/dlc.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace dlc::compiler {

/// Formats a diagnostic location the way users read it: the ONNX node or initializer
/// it names, or the file.
inline std::string describe(mlir::Location loc) {
  if (auto n = mlir::dyn_cast<mlir::NameLoc>(loc))
    return n.getName().str();
  if (auto f = mlir::dyn_cast<mlir::FileLineColLoc>(loc))
    return f.getFilename().str();
  if (auto fused = mlir::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location l : fused.getLocations())
      if (std::string s = describe(l); !s.empty())
        return s;
  return "";
}

/// A diagnostic as one line: "<node>: <message>".
inline std::string oneLine(mlir::Diagnostic &d) {
  std::string where = describe(d.getLocation());
  std::string line = (where.empty() ? "" : where + ": ") + d.str();
  for (char &c : line)
    if (c == '\n')
      c = ' ';
  return line;
}

/// Collects the first error diagnostic as a one-line message; with `printRemarks`,
/// prints remarks to stderr as they come (CompileOptions::remarks).
class ErrorCollector {
public:
  explicit ErrorCollector(mlir::MLIRContext &ctx, bool printRemarks = false)
      : handler(&ctx, [this, printRemarks](mlir::Diagnostic &d) {
          if (d.getSeverity() == mlir::DiagnosticSeverity::Error && message.empty())
            message = oneLine(d);
          if (d.getSeverity() == mlir::DiagnosticSeverity::Remark && printRemarks)
            llvm::errs() << "dlc: remark: " << oneLine(d) << "\n";
          return mlir::success();
        }) {}
  Status status(const std::string &fallback) const {
    return Status::error(message.empty() ? fallback : message);
  }

private:
  std::string message;
  mlir::ScopedDiagnosticHandler handler;
};

/// Checks the target options (architecture, emit kind against target).
Status checkTarget(const CompileOptions &options);

/// Compiles an imported module (graph passes to artifact or the requested stage); a
/// training step's artifact records `step`.
Expected<CompileResult> compileImported(mlir::MLIRContext &ctx, mlir::ModuleOp module,
                                        const CompileOptions &options,
                                        const StepSignature *step = nullptr);

/// Creates a context with every dialect and interface the pipeline needs.
std::unique_ptr<mlir::MLIRContext> makeContext();

/// Applies --print-ir-after-all / --print-ir-after=PASS to `pm`.
void configureIRPrinting(mlir::PassManager &pm, const CompileOptions &options);

/// Shape inference, canonicalization, CSE and kernel formation on the imported module.
mlir::LogicalResult runGraphPipeline(mlir::ModuleOp module, const CompileOptions &options);

/// Graphviz text of the kernel-formed @main: ops clustered and coloured by kernel.
std::string kernelGraphDot(mlir::ModuleOp module);

/// Two dims of @main that its shape inference took to be equal without proof (a
/// dynamic dim broadcast against another, a contraction's reduced extents;
/// dialects/DimAssumptions.h), and the ONNX node label ("X (Add)") that did.
struct DimCheck {
  mlir::AffineExpr a, b;
  std::string node;
};

/// The DimChecks of @main as imported (before the graph passes rewrite it).
std::vector<DimCheck> collectDimChecks(mlir::ModuleOp module);

/// Buffers, launches, shape expressions and weights of the kernel-formed @main.
/// `bodies` numbers the functions of runtime loops (dlc.loop) as nested artifacts;
/// each of `checks` becomes a run-time check of the first launch whose kernel holds
/// its node (artifact::Launch::dimChecks).
mlir::FailureOr<artifact::ArtifactSpec> buildPlan(mlir::ModuleOp module,
                                                  const llvm::StringMap<int64_t> &bodies = {},
                                                  llvm::ArrayRef<DimCheck> checks = {});

/// Outlines kernels and lowers them to linalg, tiled over workgroups (on tensors).
mlir::LogicalResult runKernelPipeline(mlir::ModuleOp module, const CompileOptions &options);

/// Bufferizes the kernels and distributes their workgroup loop (or, with
/// options.emulateGpu, maps their block and thread loops as the GPU would, as loops).
mlir::LogicalResult runCpuMappingPipeline(mlir::ModuleOp module, const CompileOptions &options);

/// Lowers the mapped CPU kernels to the LLVM dialect.
mlir::LogicalResult runCpuLlvmPipeline(mlir::ModuleOp module, const CompileOptions &options);

/// Bufferizes the kernels and maps them onto a gpu.module of CUDA kernels.
mlir::LogicalResult runCudaMappingPipeline(mlir::ModuleOp module, const CompileOptions &options);

/// GPU emulation with emulateSimt: the gpu.module's kernel code as the CUDA target makes
/// it (runCudaKernelCodePipeline's kernel-code passes, for cudaArch), then its kernels as
/// CPU kernel functions for the runtime's SIMT emulator (dlc-simt-kernels).
mlir::LogicalResult runSimtKernelPipeline(mlir::ModuleOp module, const CompileOptions &options);

/// The gpu.module's kernel code for cudaArch: tensor-core lane code, register epilogues,
/// vector accesses, unrolled and pipelined loops; shared buffers past the static limit
/// in dynamic shared memory (dlc-gpu-dynamic-shared).
mlir::LogicalResult runCudaKernelCodePipeline(mlir::ModuleOp module, const CompileOptions &options);

/// Lowers the gpu.module (after runCudaKernelCodePipeline) to NVVM and PTX (a gpu.binary
/// holding the PTX text).
mlir::LogicalResult runCudaCodegenPipeline(mlir::ModuleOp module, const CompileOptions &options,
                                           llvm::StringRef toolkitPath);

/// Fills each launch's block size from the mapped gpu.func kernels' `dlc.block` and
/// its grid (assignGrids); its static shared memory comes from the PTX
/// (sharedMemoryFromPtx), its dynamic shared memory from the kernel code
/// (dynamicSharedFromKernels).
mlir::LogicalResult assignGpuLaunches(mlir::ModuleOp module, artifact::ArtifactSpec &spec);

/// Sets each launch's dynamic shared memory to its gpu.func kernel's
/// `dlc.dynamic_shared` (after runCudaKernelCodePipeline).
void dynamicSharedFromKernels(mlir::ModuleOp module, artifact::ArtifactSpec &spec);

/// The PTX text of the module's gpu.binary after runCudaCodegenPipeline.
mlir::FailureOr<std::string> extractPtx(mlir::ModuleOp module);

/// Sets each launch's static shared memory to the bytes of its kernel's workgroup
/// buffers in `ptx` (what the kernel-code passes leave: dlc-gpu-register-epilogue
/// drops accumulators).
void sharedMemoryFromPtx(llvm::StringRef ptx, artifact::ArtifactSpec &spec);

/// The CUDA toolkit folder holding nvvm/libdevice (for math functions): the options',
/// else /usr/local/cuda or /usr/lib/cuda when they hold it; "" when none does.
std::string findCudaToolkit(const CompileOptions &options);

/// Fills each launch's grid from its kernel's `dlc.grid` (#dlc.grid: CPU workgroups or
/// CUDA blocks; 1 without one): a number, or an expression over the graph-input dims
/// appended to the plan's expressions (evaluateLaunchGrid).
mlir::LogicalResult assignGrids(mlir::ModuleOp module, artifact::ArtifactSpec &spec);

/// Translates the LLVM-dialect kernels to native code for the host: LLVM IR text (when
/// `llvmIR` is non-null) and the bytes of a shared object exporting each kernel's entry.
/// `streamStores`: large outputs are written with non-temporal stores (docs/cpu.md).
mlir::FailureOr<std::vector<uint8_t>> emitCpuCode(mlir::ModuleOp module,
                                                  const artifact::ArtifactSpec &spec,
                                                  std::string *llvmIR, std::string &targetTriple,
                                                  bool streamStores);

} // namespace dlc::compiler

#endif // DLC_LIB_COMPILER_COMPILER_H
