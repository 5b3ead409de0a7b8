//===- Pipeline.cpp - The pass pipelines of the compiler ------------------===//
#include "Compiler.h"

#include "dialects/DlcDialect.h"
#include "passes/GpuTarget.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

using namespace mlir;

namespace dlc::compiler {

std::unique_ptr<MLIRContext> makeContext() {
  static std::once_flag passesRegistered;
  std::call_once(passesRegistered, [] {
    registerAllPasses();
    registerDlcPasses();
  });
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registry.insert<DlcDialect>();
  auto ctx = std::make_unique<MLIRContext>(registry);
  ctx->loadDialect<DlcDialect, func::FuncDialect>();
  return ctx;
}

void configureIRPrinting(PassManager &pm, const CompileOptions &options) {
  if (!options.printIRAfterAll && options.printIRAfter.empty())
    return;
  pm.getContext()->disableMultithreading();
  std::vector<std::string> names = options.printIRAfter;
  bool all = options.printIRAfterAll;
  pm.enableIRPrinting(
      /*shouldPrintBeforePass=*/[](Pass *, Operation *) { return false; },
      /*shouldPrintAfterPass=*/
      [all, names](Pass *pass, Operation *) {
        return all || llvm::is_contained(names, pass->getArgument().str());
      },
      /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
}

static LogicalResult runPipeline(ModuleOp module, const CompileOptions &options,
                                 llvm::function_ref<void(PassManager &)> build) {
  PassManager pm(module.getContext());
  configureIRPrinting(pm, options);
  build(pm);
  return pm.run(module);
}

/// Appends a textual pipeline of upstream passes (the spelling that is stable across
/// MLIR versions); a typo here is a compiler bug, reported as an error.
static void addUpstream(PassManager &pm, StringRef pipeline) {
  std::string error;
  llvm::raw_string_ostream os(error);
  if (failed(parsePassPipeline(pipeline, pm, os)))
    llvm::report_fatal_error(llvm::Twine("dlc: bad internal pipeline: ") + error);
}

LogicalResult runGraphPipeline(ModuleOp module, const CompileOptions &options) {
  return runPipeline(module, options, [&](PassManager &pm) {
    OpPassManager &f = pm.nest<func::FuncOp>();
    f.addPass(createDlcShapeInference());
    f.addPass(createCanonicalizerPass());
    f.addPass(createCSEPass());
    f.addPass(createDlcFoldBatchNorm());
    f.addPass(createDlcDropPaddingTaps());
    if (options.target == TargetKind::Cpu && !options.emulateGpu) {
      f.addPass(createDlcSplitColumnReductions());
    } else {
      f.addPass(createDlcSplitToSlices());
      // A big reduction to a scalar as rows (a block each), then their partials.
      f.addPass(createDlcSplitScalarReductions());
      // Below fp32: contraction weights stored in half precision.
      DlcHalfWeightsOptions half;
      half.precision = precisionName(options.precision);
      f.addPass(createDlcHalfWeights(half));
    }
    DlcFormKernelsOptions formKernels;
    formKernels.fuse = options.fusion;
    // The GPU tiles a contraction through shared memory and a long row reduction
    // cooperatively (a block per row), but not both in one kernel: together they
    // run one thread per row, with the row's scores in a per-thread temporary, which
    // only short rows afford.
    // A GPU thread per element of a contraction's broadcast epilogue would compute the
    // contraction again for each; slices of a contraction read apart leave it no tile.
    if (options.target != TargetKind::Cpu || options.emulateGpu) {
      formKernels.maxFusedRow = 32;
      formKernels.broadcastEpilogues = false;
      formKernels.sharedSlices = false;
      formKernels.maxFusedDepth = 64;
    }
    f.addPass(createDlcFormKernels(formKernels));
    // Below fp32: activations only contractions read cross kernels in half precision.
    if ((options.target != TargetKind::Cpu || options.emulateGpu) && options.gpuHalfActivations) {
      DlcHalfActivationsOptions halfActivations;
      halfActivations.precision = precisionName(options.precision);
      f.addPass(createDlcHalfActivations(halfActivations));
    }
  });
}

LogicalResult runKernelPipeline(ModuleOp module, const CompileOptions &options) {
  return runPipeline(module, options, [&](PassManager &pm) {
    pm.addPass(createDlcOutlineKernels());
    pm.addPass(createDlcSignlessIntegers());
    bool gpuTiling = options.target == TargetKind::Cuda || options.emulateGpu;
    // Below fp32, ungrouped Convs as MatMul-like contractions, which tensor cores take:
    // 1x1 Convs directly, the others as implicit GEMM over their input's columns.
    ConvertDlcToLinalgOptions toLinalg;
    toLinalg.unitConvsAsContractions = gpuTiling && options.precision != Precision::Fp32;
    toLinalg.im2colConvs = toLinalg.unitConvsAsContractions;
    // GPU: a grouped Conv's collapse of its groups after its epilogue, not between.
    toLinalg.expandEpilogues = gpuTiling;
    // CPU: scatters write computed addresses in a loop over the updates.
    toLinalg.sequentialScatters = !gpuTiling;
    // GPU: a reduction to a scalar maps onto a block (a cooperative row), not a thread.
    toLinalg.fullReductionsOverUnitLoop = gpuTiling;
    // GPU: tiles take a root of one result (ArgMax's value-and-index reduction has two).
    toLinalg.argReductionsInTwoPasses = gpuTiling;
    pm.addPass(createConvertDlcToLinalg(toLinalg));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    // CPU: chains of elementwise ops (a Conv's bias, activation and residual add) become
    // one loop nest, without a temporary per op.
    if (!gpuTiling && options.cpuUkernels)
      addUpstream(pm, "func.func(linalg-fuse-elementwise-ops),canonicalize,cse");
    // GPU: Slice and Concat kernels get a linalg root (before the empty tensors of their
    // results are turned into the outputs).
    if (gpuTiling)
      pm.addPass(createDlcCopiesAsGenerics());
    pm.addPass(createDlcUntieInits());
    pm.addPass(bufferization::createEmptyTensorEliminationPass());
    // Padded inputs as guarded loads: needed on the GPU (docs/cuda.md); on the CPU a
    // padded copy per tile vectorizes better.
    if (options.foldPadIntoLoads.value_or(gpuTiling)) {
      DlcFoldPadIntoLoadsOptions fold;
      fold.contractionTiles = gpuTiling && options.gpuContractionTiles;
      pm.addPass(createDlcFoldPadIntoLoads(fold));
    }
    if (gpuTiling) {
      // A producer that computes a kernel's output once its slices are bubbled up (a
      // Gemm behind a whole-tensor Slice) gets the output as its init too.
      pm.addPass(createDlcFuseScalarProducers());
      pm.addPass(createDlcBubbleUpSlices());
      pm.addPass(bufferization::createEmptyTensorEliminationPass());
      pm.addPass(createDlcFoldTransposesIntoOperands());
      pm.addPass(createDlcMergeEpilogueDags());
      DlcGpuSelectTilingOptions select;
      select.contractionTiles = options.gpuContractionTiles;
      // The SIMT emulation runs the code of the architecture asked for (sm_90a's
      // warpgroup tiles too); the loop emulation tiles as for sm_80.
      select.arch =
          options.target == TargetKind::Cuda || options.emulateSimt ? options.cudaArch : "sm_80";
      select.precision = precisionName(options.precision);
      pm.addPass(createDlcGpuSelectTiling(select));
      DlcTileGpuOptions tile;
      tile.swizzleShared =
          options.gpuSwizzleShared && (options.target == TargetKind::Cuda || options.emulateSimt);
      pm.addPass(createDlcTileGpu(tile));
    } else {
      pm.addPass(createDlcTileWorkgroups());
    }
    // tensor.dim of an op's result in terms of its operands: a padded input fused into
    // each tile would otherwise stay alive (padded whole, on every run) for its dims.
    addUpstream(pm,
                "resolve-ranked-shaped-type-result-dims{error-on-pattern-iteration-limit=false}");
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  });
}

LogicalResult runCpuMappingPipeline(ModuleOp module, const CompileOptions &options) {
  return runPipeline(module, options, [&](PassManager &pm) {
    pm.addPass(createDlcBufferize());
    bufferization::buildBufferDeallocationPipeline(pm);
    if (options.emulateGpu) {
      pm.addPass(createCanonicalizerPass());
      pm.addPass(createCSEPass());
      DlcMapToGpuOptions map;
      map.emulate = true;
      map.strictBlocks = options.strictGpuBlocks;
      pm.addPass(createDlcMapToGpu(map));
      // The threads' vector accesses, as on the GPU, each asserting the alignment it
      // claims (which the GPU would fault on).
      pm.addPass(createCanonicalizerPass());
      DlcVectorizeThreadTilesOptions vectorize;
      vectorize.verifyAlignment = true;
      pm.addPass(createDlcVectorizeThreadTiles(vectorize));
    } else {
      pm.addPass(createDlcDistributeWorkgroups());
      pm.addPass(createDlcBiasIntoAccumulator());
      if (options.cpuUkernels)
        pm.addPass(createDlcCpuUkernels());
      pm.addPass(createDlcCollapseElementwiseDims());
      pm.addPass(createDlcSplitReductions());
      pm.addPass(createDlcPrefetchNextRow());
      pm.addPass(createDlcVectorizeColumnReductions());
      pm.addPass(createDlcVectorizeNearestRows());
      pm.addPass(createDlcVectorizePoolRows());
      pm.addPass(createDlcInterchangeWindows());
      pm.addPass(createDlcHoistBuffers());
      pm.addPass(createDlcCpuMathApproximation());
    }
  });
}

LogicalResult runCpuLlvmPipeline(ModuleOp module, const CompileOptions &options) {
  return runPipeline(module, options, [](PassManager &pm) {
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    addUpstream(pm, "func.func(convert-linalg-to-loops),lower-affine,"
                    "convert-scf-to-cf,expand-strided-metadata,lower-affine,"
                    "func.func(arith-expand,math-extend-to-supported-types),"
                    "convert-vector-to-llvm,finalize-memref-to-llvm,convert-math-to-llvm,"
                    "convert-math-to-libm,convert-vector-to-llvm,convert-arith-to-llvm,"
                    "convert-index-to-llvm,convert-cf-to-llvm,"
                    "convert-func-to-llvm,reconcile-unrealized-casts");
  });
}

LogicalResult runCudaMappingPipeline(ModuleOp module, const CompileOptions &options) {
  return runPipeline(module, options, [&](PassManager &pm) {
    pm.addPass(createDlcBufferize());
    bufferization::buildBufferDeallocationPipeline(pm);
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    DlcMapToGpuOptions map;
    map.strictBlocks = options.strictGpuBlocks;
    pm.addPass(createDlcMapToGpu(map));
  });
}

/// The kernel-code passes, nested in the gpu.module: tensor-core lane code, register
/// epilogues and accumulators, vector accesses, unrolled thread loops, pipelined steps.
/// `arch`: the architecture (sm_90a: warpgroup tiles; sm_80 on: asynchronous copies).
/// The SIMT emulation runs the same passes for the same architecture (its alignment
/// checks come after them, in dlc-simt-kernels), so that it runs the code the GPU runs.
static std::string kernelCodePasses(const std::string &arch, const CompileOptions &options) {
  return std::string("canonicalize,") +
         (arch == "sm_90a" ? "dlc-gpu-mma{wgmma=true}" : "dlc-gpu-mma") +
         ",dlc-gpu-register-epilogue,dlc-gpu-register-accumulators,dlc-gpu-register-epilogue,"
         "dlc-vectorize-thread-tiles,dlc-unroll-thread-loops,convert-linalg-to-loops,"
         "canonicalize,dlc-unroll-thread-loops,loop-invariant-code-motion,"
         "dlc-gpu-async-copies{arch=" +
         arch + " stages=" + std::to_string(options.gpuCopyStages) +
         "},dlc-pipeline-steps,dlc-hoist-buffers" +
         (options.gpuSwizzleShared ? ",dlc-gpu-swizzle-shared" : "");
}

LogicalResult runSimtKernelPipeline(ModuleOp module, const CompileOptions &options) {
  return runPipeline(module, options, [&](PassManager &pm) {
    addUpstream(pm,
                "gpu.module(" + kernelCodePasses(options.cudaArch, options) + "),dlc-simt-kernels");
  });
}

LogicalResult runCudaKernelCodePipeline(ModuleOp module, const CompileOptions &options) {
  return runPipeline(module, options, [&](PassManager &pm) {
    addUpstream(pm, "gpu.module(" + kernelCodePasses(options.cudaArch, options) +
                        ",dlc-gpu-dynamic-shared{arch=" + options.cudaArch + "})");
  });
}

/// The dynamic shared memory `convert-gpu-to-nvvm` declares (`__dynamic_shmem__N`,
/// a zero-length array) as PTX's `.extern .shared` array: the lowering makes it an
/// internal global, which NVPTX demotes to a one-byte `.shared` variable of the kernel.
static void externDynamicShared(ModuleOp module) {
  module.walk([](LLVM::GlobalOp g) {
    if (g.getSymName().starts_with("__dynamic_shmem__") && g.getAddrSpace() == 3)
      g.setLinkage(LLVM::Linkage::External);
  });
}

LogicalResult runCudaCodegenPipeline(ModuleOp module, const CompileOptions &options,
                                     StringRef toolkitPath) {
  if (failed(runPipeline(module, options, [&](PassManager &pm) {
        // wgmma.mma_async exists on sm_90a only (the arch-specific features of sm_90); it
        // becomes inline PTX in convert-nvvm-to-llvm.
        addUpstream(pm, "gpu.module(lower-affine,"
                        "convert-scf-to-cf,"
                        "expand-strided-metadata,lower-affine,arith-expand,"
                        "math-extend-to-supported-types,canonicalize,cse,convert-nvgpu-to-nvvm,"
                        "convert-gpu-to-nvvm{index-bitwidth=64},convert-nvvm-to-llvm,canonicalize,"
                        "cse,reconcile-unrealized-casts)");
      })))
    return failure();
  externDynamicShared(module);
  return runPipeline(module, options, [&](PassManager &pm) {
    std::string attach = "nvvm-attach-target{O=3 chip=" + options.cudaArch;
    if (const GpuTarget *target = lookupGpuTarget(options.cudaArch); target && target->ptxVersion)
      attach += " features=+ptx" + std::to_string(target->ptxVersion);
    attach += "}";
    addUpstream(pm, attach);
    std::string toBinary = "gpu-module-to-binary{format=isa";
    if (!toolkitPath.empty())
      toBinary += " toolkit=" + toolkitPath.str();
    addUpstream(pm, toBinary + "}");
  });
}

} // namespace dlc::compiler
