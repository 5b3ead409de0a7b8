//===- CpuCodegen.cpp - LLVM-dialect kernels to a host shared object ------===//
//
// Translates the kernels to LLVM IR, adds one entry per kernel with the runtime's ABI
// (`void sym(void **args, int64_t wg, int64_t nwg)`, each args[i] a memref descriptor),
// splits the kernels into one module per core, optimizes each for the host CPU and
// emits its object file on its own thread, and links the objects into a shared object
// with LLD as a library (no external tool runs).
//
//===----------------------------------------------------------------------===//
#include "Compiler.h"

#include "dialects/DlcAttrs.h"
#include "lld/Common/Driver.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/ReplaceConstant.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <mutex>
#include <thread>

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

/// SIMT emulation (dlc-simt-kernels): a block's shared memory is per worker thread, whose
/// blocks run one at a time, so its globals are thread-local. Their address is the
/// running thread's: every use goes through llvm.threadlocal.address (once per
/// function, in its entry block; a fiber runs on one thread), never a constant
/// expression, which the optimizer may fold into a constant vector that the backend
/// cannot materialize for thread-local storage (a table of shared buffers' addresses
/// stored as one <4 x i64> held garbage).
void makeSharedMemoryThreadLocal(llvm::Module &m) {
  llvm::SmallVector<llvm::GlobalVariable *> shared;
  for (llvm::GlobalVariable &g : m.globals())
    if (g.getName().starts_with("dlc_simt_shared_")) {
      g.setThreadLocal(true);
      shared.push_back(&g);
    }
  if (shared.empty())
    return;
  llvm::SmallVector<llvm::Constant *> constants(shared.begin(), shared.end());
  llvm::convertUsersOfConstantsToInstructions(constants);
  for (llvm::GlobalVariable *g : shared) {
    llvm::DenseMap<llvm::Function *, llvm::Value *> address;
    llvm::SmallVector<llvm::Use *> uses;
    for (llvm::Use &u : g->uses())
      uses.push_back(&u);
    for (llvm::Use *u : uses) {
      auto *inst = llvm::dyn_cast<llvm::Instruction>(u->getUser());
      if (!inst)
        continue;
      llvm::Function *f = inst->getFunction();
      llvm::Value *&a = address[f];
      if (!a) {
        llvm::IRBuilder<> b(&*f->getEntryBlock().getFirstInsertionPt());
        a = b.CreateThreadLocalAddress(g);
      }
      u->set(a);
    }
  }
}

/// The kernels' own buffers (memref.alloc, lowered to malloc and free) come from the
/// runtime's scratch heap, dlc_uk_alloc and dlc_uk_free (runtime/ScratchHeap.cpp),
/// which keeps freed blocks: from malloc, a large block is fresh pages every run. The
/// calls keep malloc's noalias result, which the vectorizer relies on.
void allocateFromScratchHeap(llvm::Module &m) {
  for (auto [from, to] : {std::pair{"malloc", "dlc_uk_alloc"}, std::pair{"free", "dlc_uk_free"}}) {
    llvm::Function *f = m.getFunction(from);
    if (!f || !f->isDeclaration())
      continue;
    llvm::Function *g =
        llvm::Function::Create(f->getFunctionType(), llvm::GlobalValue::ExternalLinkage, to, m);
    for (llvm::User *u : llvm::make_early_inc_range(f->users()))
      if (auto *call = llvm::dyn_cast<llvm::CallInst>(u); call && call->getCalledOperand() == f) {
        call->setCalledFunction(g);
        if (f->getName() == "malloc")
          call->addRetAttr(llvm::Attribute::NoAlias);
      }
    if (f->use_empty())
      f->eraseFromParent();
  }
}

/// A kernel's buffers never overlap where it writes: the plan gives every kernel
/// result a buffer of its own, live ranges that share a launch never share bytes, and
/// Model::runInto, which writes outputs in the caller's tensors, refuses the inputs'
/// own vector as its outputs (CpuExecutor.cpp). So
/// each pointer a kernel takes is noalias (two views of one buffer that it only reads
/// are allowed by noalias' definition), and LLVM may keep an index it loaded in a
/// register across the stores of a row (a Gather's) and vectorize without checks.
void markBuffersNoAlias(llvm::Module &m, const artifact::ArtifactSpec &spec) {
  for (const artifact::Kernel &k : spec.kernels)
    if (llvm::Function *f = m.getFunction(k.name); f && !f->isDeclaration())
      for (llvm::Argument &arg : f->args())
        if (arg.getType()->isPointerTy())
          arg.addAttr(llvm::Attribute::NoAlias);
}

/// The argument attribute naming a kernel buffer whose stores stream past the caches.
constexpr const char *kStreamAttr = "dlc-nontemporal";
/// A kernel output of at least this many bytes that the model returns (no kernel of
/// the run reads it), or that the next kernels read, is written with non-temporal
/// stores: where they beat cached stores for the producer alone, and for the producer
/// and a consumer together, on the 2-core Emerald Rapids host (260 MiB shared L3;
/// build/bin/dlc-stream-bench, docs/cpu.md "Streaming stores").
constexpr uint64_t kStreamOutputBytes = 16ull << 20;
constexpr uint64_t kStreamIntermediateBytes = 32ull << 20;
/// A memcpy into a streamed buffer shorter than this stays a call (a few lines).
constexpr uint64_t kMinStreamedCopyBytes = 256;

/// Marks the LLVM argument of each kernel output (the descriptor's aligned pointer)
/// that is large enough to stream (kStreamAttr, kept through module splitting), and
/// keeps such kernels out of their C-interface wrappers (noinline), where the
/// argument would be lost. After optimization, markStreamingStores turns the
/// kernel's vector stores through that pointer non-temporal. Not before: LLVM's loop
/// vectorizer refuses non-temporal stores it cannot prove aligned, and kernel buffers
/// are only element-aligned (a caller's output tensor).
///
/// A kernel whose dlc_uk_transpose calls (`transposeOutputs`: per kernel, the argument
/// each call writes, attrs::kTransposeOutputs) all write outputs that stream calls
/// dlc_uk_transpose_nt instead, which streams what it can itself.
void markStreamingOutputs(llvm::Module &m, const artifact::ArtifactSpec &spec,
                          const llvm::StringMap<std::vector<int64_t>> &transposeOutputs) {
  // Buffers the model returns, through aliases.
  auto resolve = [&](int32_t b) {
    for (int hops = 0; b >= 0 && b < (int32_t)spec.buffers.size() &&
                       spec.buffers[b].kind == artifact::BufferKind::Alias && hops < 64;
         ++hops)
      b = spec.buffers[b].index;
    return b;
  };
  llvm::DenseSet<int32_t> returned;
  for (int32_t b : spec.outputBuffers)
    returned.insert(resolve(b));
  for (auto [ki, k] : llvm::enumerate(spec.kernels)) {
    llvm::Function *f = m.getFunction(k.name);
    if (!f || f->isDeclaration())
      continue;
    // Each binding of rank r is 3 + 2r arguments (allocated and aligned pointers,
    // offset, sizes, strides), then the workgroup index and count.
    unsigned next = 0;
    for (const TensorInfo &t : k.signature)
      next += 3 + 2 * t.shape.size();
    if (next + 2 != f->arg_size())
      continue;
    bool streams = false;
    llvm::DenseSet<int64_t> streamed;
    unsigned arg = 0;
    for (auto [j, t] : llvm::enumerate(k.signature)) {
      unsigned aligned = arg + 1;
      arg += 3 + 2 * t.shape.size();
      if ((int32_t)j < k.numInputs)
        continue;
      uint64_t bytes = dtypeSize(t.dtype);
      for (int64_t d : t.shape)
        bytes = d < 0 ? 0 : bytes * d;
      // The threshold its launches' buffers call for: a returned output's, unless one
      // of them is read by later kernels.
      bool anyLaunch = false, allReturned = true;
      for (const artifact::Launch &l : spec.launches)
        if (!l.isHost() && l.kernel == (int32_t)ki && j < l.bindings.size()) {
          anyLaunch = true;
          allReturned &= returned.contains(resolve(l.bindings[j]));
        }
      uint64_t threshold = anyLaunch && allReturned ? kStreamOutputBytes : kStreamIntermediateBytes;
      if (bytes == 0 || bytes < threshold)
        continue;
      f->getArg(aligned)->addAttr(llvm::Attribute::get(m.getContext(), kStreamAttr));
      streams = true;
      streamed.insert(j);
    }
    auto transposes = transposeOutputs.find(k.name);
    if (transposes != transposeOutputs.end() &&
        llvm::all_of(transposes->second, [&](int64_t a) { return streamed.contains(a); }))
      if (llvm::Function *cached = m.getFunction("dlc_uk_transpose")) {
        llvm::FunctionCallee nt =
            m.getOrInsertFunction("dlc_uk_transpose_nt", cached->getFunctionType());
        for (llvm::User *u : llvm::make_early_inc_range(cached->users()))
          if (auto *call = llvm::dyn_cast<llvm::CallInst>(u);
              call && call->getFunction() == f && call->getCalledOperand() == cached)
            call->setCalledFunction(nt);
        if (cached->use_empty())
          cached->eraseFromParent();
      }
    if (streams) {
      f->removeFnAttr(llvm::Attribute::AlwaysInline);
      f->addFnAttr(llvm::Attribute::NoInline);
    }
  }
}

/// Versions a non-temporal vector `store` LLVM cannot prove aligned by its address:
/// one whole aligned store (MOVNTPS zmm) where the address is a multiple of the
/// vector's size, 16-byte pieces (MOVNTPS xmm) where it is a multiple of 16 (a
/// caller's output tensor: malloc's alignment), and LLVM's MOVNTI pieces (8 bytes
/// through a general register, two instructions each) otherwise. Softmax over rows of
/// 1024 into a model output wrote each 64-byte vector as 8 extracts and 8 MOVNTIs.
void versionStreamingStore(llvm::StoreInst *store) {
  const llvm::DataLayout &layout = store->getModule()->getDataLayout();
  uint64_t bytes = layout.getTypeStoreSize(store->getValueOperand()->getType()).getFixedValue();
  if (!llvm::isPowerOf2_64(bytes) || bytes <= 16 || store->getAlign().value() >= bytes)
    return;
  llvm::IRBuilder<> b(store);
  llvm::Value *address = b.CreatePtrToInt(store->getPointerOperand(), b.getInt64Ty());
  auto alignedTo = [&](llvm::IRBuilder<> &at, uint64_t n) {
    return at.CreateICmpEQ(at.CreateAnd(address, n - 1), at.getInt64(0));
  };
  auto storeAt = [&](llvm::Instruction *before, uint64_t align) {
    llvm::Instruction *copy = store->clone();
    copy->insertBefore(before->getIterator());
    llvm::cast<llvm::StoreInst>(copy)->setAlignment(llvm::Align(align));
  };
  llvm::Instruction *whole, *other;
  llvm::SplitBlockAndInsertIfThenElse(alignedTo(b, bytes), store->getIterator(), &whole, &other);
  storeAt(whole, bytes);
  if (store->getAlign().value() < 16) {
    llvm::IRBuilder<> o(other);
    llvm::Instruction *pieces, *rest;
    llvm::SplitBlockAndInsertIfThenElse(alignedTo(o, 16), other->getIterator(), &pieces, &rest);
    storeAt(pieces, 16);
    other = rest;
  }
  storeAt(other, store->getAlign().value());
  store->eraseFromParent();
}

/// Rewrites `copy`, an llvm.memcpy into a streamed buffer (LLVM's idiom recognition makes
/// one of a row copy: Concat, Slice, Gather rows; the backend then calls libc's memcpy,
/// whose cached stores first read every line they write), as a loop of 64-byte vector
/// loads and stores, which markStreamingStores then streams; the bytes past the last
/// whole 64 stay a memcpy.
void expandStreamedMemcpy(llvm::MemCpyInst *copy) {
  llvm::IRBuilder<> b(copy);
  llvm::Value *len = b.CreateZExtOrTrunc(copy->getLength(), b.getInt64Ty());
  llvm::Value *chunks = b.CreateLShr(len, 6);
  llvm::Value *dst = copy->getRawDest(), *src = copy->getRawSource();
  llvm::Align dstAlign = copy->getDestAlign().valueOrOne();
  llvm::Align srcAlign = copy->getSourceAlign().valueOrOne();
  llvm::Instruction *then = llvm::SplitBlockAndInsertIfThen(
      b.CreateICmpNE(chunks, b.getInt64(0)), copy->getIterator(), /*Unreachable=*/false);
  auto [body, index] = llvm::SplitBlockAndInsertSimpleForLoop(chunks, then->getIterator());
  llvm::IRBuilder<> lb(body);
  llvm::Value *offset = lb.CreateShl(index, 6);
  auto *vec = llvm::FixedVectorType::get(lb.getInt32Ty(), 16);
  llvm::Value *v = lb.CreateAlignedLoad(vec, lb.CreateGEP(lb.getInt8Ty(), src, offset), srcAlign);
  lb.CreateAlignedStore(v, lb.CreateGEP(lb.getInt8Ty(), dst, offset), dstAlign);
  b.SetInsertPoint(copy);
  llvm::Value *done = b.CreateShl(chunks, 6);
  b.CreateMemCpy(b.CreateGEP(b.getInt8Ty(), dst, done), dstAlign,
                 b.CreateGEP(b.getInt8Ty(), src, done), srcAlign, b.CreateSub(len, done));
  copy->eraseFromParent();
}

/// Sets !nontemporal on every vector store through an argument marked by
/// markStreamingOutputs (x86 writes them with MOVNT, bypassing the caches and the read
/// for ownership of each line; unaligned ones as MOVNTI pieces), and ends such a
/// kernel with an SFENCE: non-temporal stores are weakly ordered, and the thread that
/// joins the workgroups must see them before it runs the next kernel. x86 only (the
/// only host measured; elsewhere the stores stay as they are).
void markStreamingStores(llvm::Module &m) {
  if (!m.getTargetTriple().isX86())
    return;
  llvm::LLVMContext &ctx = m.getContext();
  llvm::MDNode *one = llvm::MDNode::get(
      ctx, llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(ctx), 1)));
  for (llvm::Function &f : m) {
    llvm::SmallPtrSet<const llvm::Value *, 4> streamed;
    // Only outputs the kernel never reads (LLVM inferred writeonly): a pool that
    // fills its output tile and then accumulates into it would read every line back
    // from memory.
    for (llvm::Argument &a : f.args())
      if (a.hasAttribute(kStreamAttr) && a.hasAttribute(llvm::Attribute::WriteOnly))
        streamed.insert(&a);
    if (streamed.empty())
      continue;
    // Row copies LLVM made memcpys of, when they are long enough to stream.
    llvm::SmallVector<llvm::MemCpyInst *> copies;
    for (llvm::Instruction &i : llvm::instructions(f))
      if (auto *copy = llvm::dyn_cast<llvm::MemCpyInst>(&i);
          copy && !copy->isVolatile() &&
          streamed.contains(llvm::getUnderlyingObject(copy->getRawDest(), 12))) {
        auto *n = llvm::dyn_cast<llvm::ConstantInt>(copy->getLength());
        if (!n || n->getZExtValue() >= kMinStreamedCopyBytes)
          copies.push_back(copy);
      }
    for (llvm::MemCpyInst *copy : copies)
      expandStreamedMemcpy(copy);
    llvm::SmallVector<llvm::StoreInst *> marked;
    llvm::SmallVector<llvm::ReturnInst *> returns;
    for (llvm::Instruction &i : llvm::instructions(f)) {
      if (auto *ret = llvm::dyn_cast<llvm::ReturnInst>(&i))
        returns.push_back(ret);
      auto *store = llvm::dyn_cast<llvm::StoreInst>(&i);
      if (store && store->getValueOperand()->getType()->isVectorTy() &&
          streamed.contains(llvm::getUnderlyingObject(store->getPointerOperand(), 12))) {
        store->setMetadata(llvm::LLVMContext::MD_nontemporal, one);
        marked.push_back(store);
      }
    }
    if (marked.empty())
      continue;
    for (llvm::StoreInst *store : marked)
      versionStreamingStore(store);
    llvm::FunctionCallee sfence =
        llvm::Intrinsic::getOrInsertDeclaration(&m, llvm::Intrinsic::x86_sse_sfence);
    for (llvm::ReturnInst *ret : returns)
      llvm::IRBuilder<>(ret).CreateCall(sfence);
  }
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
FailureOr<std::vector<uint8_t>> linkSharedObject(ModuleOp module,
                                                 ArrayRef<llvm::SmallVector<char, 0>> objects) {
  llvm::SmallString<128> soPath;
  std::vector<llvm::SmallString<128>> objPaths(objects.size());
  std::vector<std::unique_ptr<llvm::FileRemover>> removers;
  if (llvm::sys::fs::createTemporaryFile("dlc-kernels", "so", soPath))
    return module.emitError("cannot create temporary files for linking"), failure();
  llvm::FileRemover removeSo(soPath);
  for (size_t i = 0; i < objects.size(); ++i) {
    int fd;
    if (llvm::sys::fs::createTemporaryFile("dlc-kernels", "o", fd, objPaths[i]))
      return module.emitError("cannot create temporary files for linking"), failure();
    removers.push_back(std::make_unique<llvm::FileRemover>(objPaths[i]));
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(objects[i].data(), objects[i].size());
  }
  std::vector<const char *> argv = {"ld.lld", "-shared", "-o", soPath.c_str()};
  for (llvm::SmallString<128> &path : objPaths)
    argv.push_back(path.c_str());
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

/// LLVM's O3 pipeline for the host (as mlir::makeOptimizingTransformer builds it), with
/// or without the SLP vectorizer.
void optimizeModule(llvm::Module &m, llvm::TargetMachine &machine, bool slpVectorize) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = slpVectorize;
  llvm::PassBuilder pb(&machine, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(m, mam);
}

/// Emits the object code of optimized `m` (printing it to `ir` when given); an error
/// message or "".
std::string compileOptimized(llvm::Module &m, llvm::TargetMachine &machine,
                             llvm::SmallVector<char, 0> &object, std::string *ir) {
  markStreamingStores(m);
  if (ir) {
    llvm::raw_string_ostream os(*ir);
    m.print(os, nullptr);
  }
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (machine.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return "the host target cannot emit object files";
  pm.run(m);
  return "";
}

} // namespace

FailureOr<std::vector<uint8_t>> emitCpuCode(ModuleOp module, const artifact::ArtifactSpec &spec,
                                            std::string *llvmIR, std::string &targetTriple,
                                            bool streamStores) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::StringMap<std::vector<int64_t>> transposeOutputs;
  module.walk([&](LLVM::LLVMFuncOp f) {
    if (auto outputs = f->getAttrOfType<DenseI64ArrayAttr>(attrs::kTransposeOutputs))
      transposeOutputs[f.getName()] =
          std::vector<int64_t>(outputs.asArrayRef().begin(), outputs.asArrayRef().end());
  });
  llvm::LLVMContext llvmCtx;
  std::unique_ptr<llvm::Module> m = translateModuleToLLVMIR(module, llvmCtx, "dlc_kernels");
  if (!m)
    return module.emitError("cannot translate the kernels to LLVM IR"), failure();
  makeSharedMemoryThreadLocal(*m);
  allocateFromScratchHeap(*m);
  markBuffersNoAlias(*m, spec);
  if (streamStores)
    markStreamingOutputs(*m, spec, transposeOutputs);
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

  // Optimizes `part` at O3 (printing it to `ir` when given) and emits its object code;
  // an error message or "". LLVM's optimizer has miscompiled kernels into invalid IR
  // (LLVM 22.1.8 on an Emerald Rapids host: an SLP-vectorized shuffle that does not
  // dominate its use, in the FlexAttention node tests), which code generation then
  // crashes on: the result is verified, and a broken one is optimized again from a
  // copy of the input without the SLP vectorizer.
  auto compilePart = [](llvm::Module &part, llvm::TargetMachine &machine,
                        llvm::SmallVector<char, 0> &object, std::string *ir) -> std::string {
    std::unique_ptr<llvm::Module> input = llvm::CloneModule(part);
    optimizeModule(part, machine, /*slpVectorize=*/true);
    if (llvm::verifyModule(part)) {
      llvm::Module &retry = *input;
      optimizeModule(retry, machine, /*slpVectorize=*/false);
      if (llvm::verifyModule(retry, &llvm::errs()))
        return "LLVM's optimizer produced invalid IR";
      return compileOptimized(retry, machine, object, ir);
    }
    return compileOptimized(part, machine, object, ir);
  };

  // LLVM's optimization and code generation are nearly all of a compile (80% of a
  // 100-Conv detector's): the kernels are split into one module per core, each
  // optimized and code-generated on its own thread in its own LLVMContext, and the
  // objects linked together. --emit llvm keeps the single module it prints.
  unsigned parts = std::min<unsigned>(std::max(1u, std::thread::hardware_concurrency()), 8);
  if (llvmIR || parts < 2 || spec.kernels.size() < 4) {
    llvm::SmallVector<llvm::SmallVector<char, 0>, 1> objects(1);
    if (std::string e = compilePart(*m, *tm, objects[0], llvmIR); !e.empty())
      return module.emitError(e), failure();
    return linkSharedObject(module, objects);
  }
  std::vector<llvm::SmallVector<char, 0>> bitcode;
  llvm::SplitModule(
      *m, parts,
      [&](std::unique_ptr<llvm::Module> part) {
        llvm::SmallVector<char, 0> bc;
        llvm::raw_svector_ostream os(bc);
        llvm::WriteBitcodeToFile(*part, os);
        bitcode.push_back(std::move(bc));
      },
      /*PreserveLocals=*/false, /*RoundRobin=*/false);
  std::vector<llvm::SmallVector<char, 0>> objects(bitcode.size());
  std::vector<std::string> errors(bitcode.size());
  std::string cpu = llvm::sys::getHostCPUName().str(), featureString = features.getString();
  auto work = [&](size_t i) {
    llvm::LLVMContext ctx;
    llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(llvm::StringRef(bitcode[i].data(), bitcode[i].size()), "part"), ctx);
    if (!part) {
      errors[i] = "cannot read a kernel partition: " + llvm::toString(part.takeError());
      return;
    }
    std::unique_ptr<llvm::TargetMachine> machine(
        target->createTargetMachine(triple, cpu, featureString, options, llvm::Reloc::PIC_,
                                    std::nullopt, llvm::CodeGenOptLevel::Aggressive));
    errors[i] = compilePart(**part, *machine, objects[i], nullptr);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < bitcode.size(); ++i)
    threads.emplace_back(work, i);
  if (!bitcode.empty())
    work(0);
  for (std::thread &t : threads)
    t.join();
  for (const std::string &e : errors)
    if (!e.empty())
      return module.emitError(e), failure();
  return linkSharedObject(module, objects);
}

} // namespace dlc::compiler
