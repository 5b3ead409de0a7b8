//===- DlcAttrs.cpp - Verifiers of dlc attributes and discardable attributes ===//
#include "dialects/DlcDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dlc;

#include "dialects/DlcEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/DlcAttrs.cpp.inc"

void DlcDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/DlcAttrs.cpp.inc"
      >();
}

/// `#dlc.grid<[factor, ...]>`; `#dlc.grid<[]>` runs one workgroup.
Attribute LaunchGridAttr::parse(AsmParser &parser, Type) {
  SmallVector<GridDimAttr> factors;
  if (parser.parseLess() || parser.parseLSquare())
    return {};
  if (failed(parser.parseOptionalRSquare())) {
    if (parser.parseCommaSeparatedList([&]() -> ParseResult {
          GridDimAttr f;
          if (parser.parseAttribute(f))
            return failure();
          factors.push_back(f);
          return success();
        }) ||
        parser.parseRSquare())
      return {};
  }
  if (parser.parseGreater())
    return {};
  return LaunchGridAttr::get(parser.getContext(), factors);
}

void LaunchGridAttr::print(AsmPrinter &printer) const {
  printer << "<[";
  llvm::interleaveComma(getFactors(), printer, [&](GridDimAttr f) { printer << f; });
  printer << "]>";
}

LogicalResult GridDimAttr::verify(function_ref<InFlightDiagnostic()> emitError, int64_t binding,
                                  DenseI64ArrayAttr dims, int64_t tile) {
  if (binding < 0)
    return emitError() << "grid factor binding must be non-negative, got " << binding;
  if (!dims || dims.empty())
    return emitError() << "grid factor needs at least one dim";
  if (llvm::any_of(dims.asArrayRef(), [](int64_t d) { return d < 0; }))
    return emitError() << "grid factor dims must be non-negative";
  if (tile < 1)
    return emitError() << "grid factor tile must be at least 1, got " << tile;
  return success();
}

LogicalResult GpuConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                    GpuMapping mapping, LaunchGridAttr grid, int64_t blockThreads,
                                    DenseI64ArrayAttr blockTile, DenseI64ArrayAttr threads,
                                    DenseI64ArrayAttr rowTile, DenseI64ArrayAttr threadTile,
                                    DenseI64ArrayAttr reductionTile,
                                    DenseI64ArrayAttr contractionBound, int64_t sharedMemory,
                                    GpuMma mma) {
  if (!grid)
    return emitError() << "gpu_config needs a grid";
  if (blockThreads < 1)
    return emitError() << "gpu_config block_threads must be at least 1, got " << blockThreads;
  if (sharedMemory < 0)
    return emitError() << "gpu_config shared_memory must be non-negative";
  int64_t loops = blockTile.size();
  if (threads.size() != loops || rowTile.size() != loops)
    return emitError() << "gpu_config block_tile, threads and row_tile must have one "
                          "entry per root loop";
  auto negative = [](DenseI64ArrayAttr a) {
    return llvm::any_of(a.asArrayRef(), [](int64_t v) { return v < 0; });
  };
  if (negative(blockTile) || negative(threads) || negative(rowTile) || negative(threadTile) ||
      negative(reductionTile) || negative(contractionBound))
    return emitError() << "gpu_config tile sizes must be non-negative";
  bool contraction = mapping == GpuMapping::Contraction;
  int64_t cloops = threadTile.size();
  if (contraction != (cloops != 0) || reductionTile.size() != cloops ||
      contractionBound.size() != cloops)
    return emitError() << "gpu_config thread_tile, reduction_tile and contraction_bound "
                          "are given (one per contraction loop) exactly for mapping "
                          "'contraction'";
  if (mapping == GpuMapping::Serial && blockThreads != 1)
    return emitError() << "gpu_config mapping 'serial' runs one thread";
  if (mma != GpuMma::None && (!contraction || blockThreads % 32 != 0))
    return emitError() << "gpu_config mma needs mapping 'contraction' and whole warps";
  if (mapping == GpuMapping::Threads) {
    int64_t product = 1;
    for (int64_t t : threads.asArrayRef())
      product *= t ? t : 1;
    if (product != blockThreads)
      return emitError() << "gpu_config block_threads (" << blockThreads
                         << ") must be the product of threads (" << product << ")";
  }
  return success();
}

namespace {

bool isStringArray(Attribute a) {
  auto array = dyn_cast<ArrayAttr>(a);
  return array && llvm::all_of(array, [](Attribute e) { return isa<StringAttr>(e); });
}

} // namespace

LogicalResult DlcDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  Attribute value = attr.getValue();
  auto fail = [&](StringRef what) {
    return op->emitOpError("attribute '") << name << "' must be " << what;
  };
  if (name == attrs::kKernel)
    return isa<UnitAttr>(value) && isa<FunctionOpInterface>(op)
               ? success()
               : fail("a unit attribute on a function");
  if (name == attrs::kNodes)
    return isStringArray(value) ? success() : fail("an array of strings");
  if (name == attrs::kGrid)
    return isa<LaunchGridAttr>(value) ? success() : fail("a #dlc.grid");
  if (name == attrs::kGpuConfig)
    return isa<GpuConfigAttr>(value) ? success() : fail("a #dlc.gpu_config");
  if (name == attrs::kMma)
    return isa<GpuMmaAttr>(value) ? success() : fail("a #dlc.gpu_mma");
  if (name == attrs::kBlock) {
    auto block = dyn_cast<DenseI64ArrayAttr>(value);
    return block && block.size() == 1 && block[0] >= 1
               ? success()
               : fail("an array of one positive i64 (threads per block)");
  }
  if (name == attrs::kCopyStages) {
    auto stages = dyn_cast<DenseI64ArrayAttr>(value);
    return stages && isa<FunctionOpInterface>(op) &&
                   llvm::all_of(stages.asArrayRef(), [](int64_t s) { return s >= 2; })
               ? success()
               : fail("an array of i64 of at least 2 (stages) on a function");
  }
  if (name == attrs::kDynamicShared) {
    auto bytes = dyn_cast<IntegerAttr>(value);
    return bytes && bytes.getType().isInteger(64) && isa<FunctionOpInterface>(op) &&
                   bytes.getInt() > 0
               ? success()
               : fail("a positive i64 (bytes) on a function");
  }
  if (name == attrs::kTransposeOutputs) {
    auto outputs = dyn_cast<DenseI64ArrayAttr>(value);
    return outputs && isa<FunctionOpInterface>(op) &&
                   llvm::all_of(outputs.asArrayRef(), [](int64_t a) { return a >= -1; })
               ? success()
               : fail("an array of i64 (argument numbers or -1) on a function");
  }
  if (name == attrs::kInputNames || name == attrs::kOutputNames)
    return isStringArray(value) ? success() : fail("an array of strings");
  if (name == attrs::kInputDimNames) {
    auto array = dyn_cast<ArrayAttr>(value);
    return array && llvm::all_of(array, isStringArray) ? success()
                                                       : fail("an array of arrays of strings");
  }
  if (name == attrs::kOpset)
    return isa<IntegerAttr>(value) ? success() : fail("an integer");
  if (name == attrs::kUnsigned || name == attrs::kUnsignedResult)
    return isa<UnitAttr>(value) ? success() : fail("a unit attribute");
  return op->emitOpError("has unknown dlc attribute '") << name << "'";
}

LogicalResult DlcDialect::verifyRegionArgAttribute(Operation *op, unsigned, unsigned,
                                                   NamedAttribute attr) {
  if ((attr.getName() == attrs::kTrainable || attr.getName() == attrs::kConstant) &&
      isa<UnitAttr>(attr.getValue()))
    return success();
  return op->emitOpError("has unknown dlc argument attribute '") << attr.getName().strref() << "'";
}

LogicalResult DlcDialect::verifyRegionResultAttribute(Operation *op, unsigned, unsigned,
                                                      NamedAttribute attr) {
  if (attr.getName() == attrs::kGradientOf && isa<IntegerAttr>(attr.getValue()))
    return success();
  return op->emitOpError("has unknown dlc result attribute '") << attr.getName().strref() << "'";
}
