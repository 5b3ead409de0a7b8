//===- CpuCodegen.cpp - LLVM-dialect kernels to a host shared object ------===//
//
// Translates the kernels to LLVM IR, adds one entry per kernel with the runtime's ABI
// (`void sym(void **args, int64_t wg, int64_t nwg)`, each args[i] a memref descriptor),
// optimizes for the host CPU, emits an object file and links it into a shared object
// with LLD as a library (no external tool runs).
//
//===----------------------------------------------------------------------===//
#include "Compiler.h"

#include "lld/Common/Driver.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <mutex>

using namespace mlir;

LLD_HAS_DRIVER(elf)

namespace dlc::compiler {
namespace {

/// Adds `symbol(ptr args, i64 wg, i64 nwg)` calling `_mlir_ciface_<name>` with each
/// descriptor pointer loaded from args[i].
void addEntryPoint(llvm::Module &m, const std::string &name, const std::string &symbol) {
  llvm::Function *target = m.getFunction("_mlir_ciface_" + name);
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *fnTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy, i64, i64}, false);
  auto *entry = llvm::Function::Create(fnTy, llvm::GlobalValue::ExternalLinkage, symbol, m);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", entry));
  llvm::SmallVector<llvm::Value *> args;
  unsigned numBuffers = target->arg_size() - 2;
  for (unsigned i = 0; i < numBuffers; ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, entry->getArg(0), i);
    args.push_back(b.CreateLoad(ptrTy, slot));
  }
  args.push_back(entry->getArg(1));
  args.push_back(entry->getArg(2));
  b.CreateCall(target, args);
  b.CreateRetVoid();
}

/// Calls to the runtime's micro-kernels (declarations named dlc_uk_*, from
/// dlc-cpu-ukernels) go through pointer globals `NAME_ptr` that the loader binds; the
/// names are listed in the string `dlc_ukernels` (runtime/Ukernels.h).
void callUkernelsThroughPointers(llvm::Module &m) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  std::string names;
  for (llvm::Function &f : llvm::make_early_inc_range(m)) {
    if (!f.isDeclaration() || !f.getName().starts_with("dlc_uk_"))
      continue;
    auto *slot =
        new llvm::GlobalVariable(m, ptrTy, /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
                                 llvm::ConstantPointerNull::get(ptrTy), f.getName() + "_ptr");
    for (llvm::User *u : llvm::make_early_inc_range(f.users()))
      if (auto *call = llvm::dyn_cast<llvm::CallInst>(u); call && call->getCalledOperand() == &f) {
        llvm::IRBuilder<> b(call);
        call->setCalledOperand(b.CreateLoad(ptrTy, slot, f.getName() + "_fn"));
      }
    names += (names.empty() ? "" : ",") + f.getName().str();
    if (f.use_empty())
      f.eraseFromParent();
  }
  if (names.empty())
    return;
  auto *text = llvm::ConstantDataArray::getString(ctx, names);
  new llvm::GlobalVariable(m, text->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, text, "dlc_ukernels");
}

/// lld keeps global state: one link at a time in this process.
std::mutex lldMutex;

/// Links `object` into a shared object with LLD, in-process: no linker or compiler
/// needs to be installed where dlc runs. Nothing beyond the object is linked: the
/// kernels' calls into libc and libm (memcpy, malloc, expf, ...) stay undefined and
/// bind, when the runtime loads the shared object, to the process's own (every C++
/// program has both).
FailureOr<std::vector<uint8_t>> linkSharedObject(ModuleOp module, ArrayRef<char> object) {
  llvm::SmallString<128> objPath, soPath;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("dlc-kernels", "o", fd, objPath) ||
      llvm::sys::fs::createTemporaryFile("dlc-kernels", "so", soPath))
    return module.emitError("cannot create temporary files for linking"), failure();
  llvm::FileRemover removeObj(objPath), removeSo(soPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(object.data(), object.size());
  }
  const char *argv[] = {"ld.lld", "-shared", "-o", soPath.c_str(), objPath.c_str()};
  std::string out, err;
  llvm::raw_string_ostream outStream(out), errStream(err);
  lld::Result result;
  {
    std::lock_guard<std::mutex> lock(lldMutex);
    result = lld::lldMain(argv, outStream, errStream, {{lld::Gnu, &lld::elf::link}});
  }
  if (result.retCode != 0 || !result.canRunAgain) {
    StringRef first = StringRef(err).split('\n').first;
    return module.emitError("linking CPU kernels failed: ")
               << (first.empty() ? "lld exited with " + std::to_string(result.retCode)
                                 : first.str()),
           failure();
  }
  auto so = llvm::MemoryBuffer::getFile(soPath, false, false);
  if (!so)
    return module.emitError("cannot read the linked kernels"), failure();
  return std::vector<uint8_t>((*so)->getBufferStart(), (*so)->getBufferEnd());
}

} // namespace

FailureOr<std::vector<uint8_t>> emitCpuCode(ModuleOp module, const artifact::ArtifactSpec &spec,
                                            std::string *llvmIR, std::string &targetTriple) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::LLVMContext llvmCtx;
  std::unique_ptr<llvm::Module> m = translateModuleToLLVMIR(module, llvmCtx, "dlc_kernels");
  if (!m)
    return module.emitError("cannot translate the kernels to LLVM IR"), failure();
  callUkernelsThroughPointers(*m);
  for (const artifact::Kernel &k : spec.kernels) {
    if (!m->getFunction("_mlir_ciface_" + k.name))
      return module.emitError("kernel ") << k.name << " has no C interface", failure();
    addEntryPoint(*m, k.name, k.symbol);
    // What the loader checks the artifact's table against (kernelSignatureText).
    auto *text =
        llvm::ConstantDataArray::getString(m->getContext(), artifact::kernelSignatureText(k));
    new llvm::GlobalVariable(*m, text->getType(), /*isConstant=*/true,
                             llvm::GlobalValue::ExternalLinkage, text, k.symbol + "_signature");
  }

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return module.emitError("no LLVM target for the host: ") << error, failure();
  llvm::SubtargetFeatures features;
  for (auto &[name, enabled] : llvm::sys::getHostCPUFeatures())
    features.AddFeature(name, enabled);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  m->setTargetTriple(triple);
  m->setDataLayout(tm->createDataLayout());
  // "TRIPLE CPU +feature,...": the loader refuses the code on a CPU without one of
  // the vector features it was compiled for (the runtime checks those it knows).
  targetTriple = triple.str() + " " + llvm::sys::getHostCPUName().str();
  std::string used;
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  for (const char *f :
       {"sse4.2", "popcnt", "avx", "avx2", "fma", "bmi", "bmi2", "avx512f", "avx512bw", "avx512dq",
        "avx512vl", "avx512cd", "avx512vnni", "avx512vbmi", "avx512bf16"})
    if (host.lookup(f))
      used += (used.empty() ? "+" : ",+") + std::string(f);
  if (!used.empty())
    targetTriple += " " + used;

  if (llvm::Error err = makeOptimizingTransformer(3, 0, tm.get())(m.get()))
    return module.emitError("LLVM optimization failed: ") << llvm::toString(std::move(err)),
           failure();
  if (llvmIR) {
    llvm::raw_string_ostream os(*llvmIR);
    m->print(os, nullptr);
  }

  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager pm;
    if (tm->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      return module.emitError("the host target cannot emit object files"), failure();
    pm.run(*m);
  }

  return linkSharedObject(module, object);
}

} // namespace dlc::compiler
