//===- Passes.td - dlc passes -------------------------------*- tablegen -*-===//
#ifndef DLC_PASSES_TD
#define DLC_PASSES_TD

include "mlir/Pass/PassBase.td"

def DlcShapeInference : Pass<"dlc-shape-inference", "mlir::func::FuncOp"> {
  let summary = "Infer ranked result types of dlc ops from their operands";
  let description = [{
    Walks each function in order and asks every op implementing `DlcShapeInference`
    for its result shapes, refining unranked or less precise result types. Symbolic
    dims of the function's arguments stay `?`; dims derived from them stay `?`. An op
    whose results all have a static zero dim computes nothing and becomes empty
    constants.
  }];
}

def DlcAutodiff : Pass<"dlc-autodiff", "mlir::func::FuncOp"> {
  let summary = "Reverse-mode differentiation of a dlc function (training)";
  let description = [{
    For a function whose first result is a float scalar loss and whose trainable
    arguments carry the unit attribute `dlc.trainable`, appends one result per
    trainable argument: the gradient of the loss with respect to it, marked
    `dlc.gradient_of = <argument index>`. The backward graph is written in the dlc
    dialect from one vector-Jacobian rule per op (passes/Autodiff.cpp), so it is fused,
    tiled and compiled like the forward graph. Cotangents of a value used several
    times add up; broadcasting is undone by sums over the broadcast axes; integer
    values and casts to non-float types stop gradients; forward values are kept for
    the backward ops (saved activations). An op on the path from a trainable
    argument to the loss without a rule is an error naming it. Functions without
    trainable arguments are left alone.
  }];
}

def DlcFoldBatchNorm : Pass<"dlc-fold-batch-norm", "mlir::func::FuncOp"> {
  let summary = "Fold inference BatchNormalization into the preceding Conv";
  let description = [{
    Rewrites `batch_norm(conv(x, W, b))` into `conv(x, W', b')` with per-channel
    scaled weights and shifted bias, when W, b and the BatchNorm statistics are f32
    constants and the Conv has no other user.
  }];
}

def DlcDropPaddingTaps : Pass<"dlc-drop-padding-taps", "mlir::func::FuncOp"> {
  let summary = "Cut the kernel taps of a Conv that read only padding";
  let description = [{
    A Conv with static input spatial extents and an f32 constant weight whose first or
    last taps along a spatial dim read padding for every output position (a dilation
    as wide as the map: DeepLabV3's atrous pyramid) becomes a Conv with those taps cut
    from the weight and each pad shrunk by the dilation per tap cut, so that the taps
    left read where they read before and the output is unchanged (their products were
    zeros; a cut tap's weight must be finite). A 3x3 Conv of dilation 12 over a 4x4
    map becomes a 1x1 Conv.
  }];
}

def DlcHalfWeights : Pass<"dlc-half-weights", "mlir::func::FuncOp"> {
  let summary = "Store contraction weights in half precision (GPU, --precision fp16|bf16)";
  let description = [{
    Each f32 constant that is a Conv's weight or a MatMul's or Gemm's factor becomes
    `dlc.cast` of the constant rounded to f16 (`precision=fp16`) or bf16
    (`precision=bf16`), to nearest even, back to f32: the artifact stores the weight in
    half precision and the kernel widens it where it reads it (dlc-form-kernels puts
    the cast in the contraction's kernel). Tensor cores round their operands to the
    same type as they copy them, so their tiles compute what they computed from the
    f32 weight. fp32 and tf32 leave the graph alone.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"fp32\"",
           "fp32, tf32, fp16 or bf16: the contractions' precision">,
  ];
}

def DlcSplitToSlices : Pass<"dlc-split-to-slices", "mlir::func::FuncOp"> {
  let summary = "Rewrite a Split along a static axis into one Slice per piece (GPU)";
  let description = [{
    `dlc.split` becomes a `dlc.slice` per result (start and end along the axis, step 1).
    The CUDA pipeline runs it before dlc-form-kernels: a kernel with several outputs has
    no single root for the GPU tiling to distribute and ran on one thread, where each
    Slice is injective, read through its consumer's kernel or copied by a kernel of its
    own. A Split along a symbolic dim is left alone.
  }];
}

def DlcSplitScalarReductions : Pass<"dlc-split-scalar-reductions", "mlir::func::FuncOp"> {
  let summary = "Split a big reduction to a scalar into rows, then their partials (GPU)";
  let description = [{
    A ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1 or
    ReduceSumSquare over every dim of an input of 2^14 elements or more (f32, f64 or
    an integer; no integer mean) becomes a reduction over its trailing dims, the
    fewest that hold 256 elements or more, all static, into partials over the leading
    dims, then a reduction of the partials (ReduceL1 and ReduceSumSquare partials are
    summed). Leading dims may be symbolic (activations of [batch, seq, 768]: the
    element count is then taken to be large); the rows then end at the last symbolic
    dim if 256 elements take more, given 32 or more:

    ```mlir
    %y = dlc.reduce_sum %x {axes = array<i64>, keepdims = false}
           : (tensor<64x4096xf32>) -> tensor<f32>
    // becomes
    %p = dlc.reduce_sum %x {axes = array<i64: 1>, keepdims = false}
           : (tensor<64x4096xf32>) -> tensor<64xf32>
    %y = dlc.reduce_sum %p {axes = array<i64>, keepdims = false}
           : (tensor<64xf32>) -> tensor<f32>
    ```

    The CUDA pipeline runs it before dlc-form-kernels. The first reduction is a row
    reduction: one block per row, its elementwise producers in its kernel. The
    second reduces the partials in one block (a cooperative row over the unit loop of
    convert-dlc-to-linalg{full-reductions-over-unit-loop}); alone, the whole input
    went through that one block. A float sum adds in another order. An input of one
    dim, or whose trailing dims have fewer than 256 elements (or a symbolic dim)
    before the first, is left alone.
  }];
}

def DlcSplitColumnReductions : Pass<"dlc-split-column-reductions", "mlir::func::FuncOp"> {
  let summary = "Split a big reduction over leading dims into row blocks (CPU)";
  let description = [{
    A ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1 or
    ReduceSumSquare whose first reduced dim has only dims of extent 1 before it and
    whose last dim is kept (a column reduction: ReduceSum over the rows of
    x[16384, 1024]), over a static input of 2^18 elements or more, becomes a reduction
    of P equal blocks of that dim (x reshaped to [.., P, n / P, ..]) to P partials,
    then a reduction of the partials over P:

    ```mlir
    %y = dlc.reduce_sum %x {axes = array<i64: 0>, keepdims = true}
           : (tensor<16384x1024xf32>) -> tensor<1x1024xf32>
    // becomes
    %b = dlc.reshape %x {shape = array<i64: 16, 1024, 1024>, allowzero = false}
    %p = dlc.reduce_sum %b {axes = array<i64: 1>, keepdims = true}
           : (tensor<16x1024x1024xf32>) -> tensor<16x1x1024xf32>
    %y = dlc.reduce_sum %p {axes = array<i64: 0>, keepdims = false}
           : (tensor<16x1x1024xf32>) -> tensor<1x1024xf32>
    ```

    The blocks are the first parallel loop of the partial reduction, so the
    workgroups split them and each core reads whole rows in order, where a split of
    the columns had each core read a piece of every row (a new page each time, which
    the hardware prefetchers restart on). P is 16, or 8, 4 or 2, whichever first
    divides n (64 or more) into blocks of 8 or more rows. A float sum adds in another
    order; integer means stay as they are (a mean of block means truncates twice), and
    so do float16 and bfloat16 inputs (their partials would round to 11 or 8 bits).
  }];
}

def DlcFormKernels : Pass<"dlc-form-kernels", "mlir::func::FuncOp"> {
  let summary = "Partition the graph into dlc.kernel regions (one launch each)";
  let description = [{
    Groups compute ops into `dlc.kernel` regions by op pattern kind (docs/fusion.md),
    greedily in program order, in the manner of TVM's FuseOps and XLA's fusion:
    elementwise chains and trees become one kernel; a contraction (MatMul, Gemm,
    Conv) or window op (MaxPool, AveragePool) takes its elementwise epilogue; a
    reduction over trailing dims (Softmax, LogSoftmax, LayerNorm, ReduceX, global
    pooling) takes its elementwise producers (or a contraction whose output rows it
    reduces, unless they are static and longer than `max-fused-row` (4096: a
    classifier's thousands of classes, whose scores for a workgroup's rows would leave
    the caches; the GPU's 32, where symbolic rows do not join either) and, when its
    result drops the reduced dims, its elementwise consumers; transposes, slices and expands join
    data-parallel kernels. An op joins a group only through the group's last op, and
    only when that op's result has no other use, so every kernel has one output and
    no cycle can form; kernels hold at most 24 ops. Constants stay outside (they
    become weights) and so do metadata-only ops (reshape, flatten, squeeze,
    unsqueeze, identity), which the plan turns into buffer aliases. Each kernel
    records the ONNX nodes it covers. With `fuse=false` every compute op is its own
    kernel (`--no-fusion`, the reference).
  }];
  let options = [
    Option<"fuse", "fuse", "bool", /*default=*/"true", "Fuse ops into shared kernels">,
    Option<"maxFusedRow", "max-fused-row", "int64_t", /*default=*/"4096",
           "The longest row a reduction reduces inside the kernel of the contraction "
           "whose output rows it reduces; a symbolic row joins only at the default. The "
           "GPU's is 32: its kernels compute a contraction through shared-memory tiles "
           "or a long row cooperatively, not both">,
    Option<"broadcastEpilogues", "broadcast-epilogues", "bool", /*default=*/"true",
           "A contraction or window op takes an elementwise consumer that broadcasts "
           "its result (a squeeze-and-excitation's scale times the feature map). Off "
           "on the GPU, whose kernels map such a consumer one thread per element and "
           "would compute the contraction again for each element it is broadcast to">,
    Option<"sharedSlices", "shared-slices", "bool", /*default=*/"true",
           "A transpose, slice or expand joins a contraction's kernel even when other "
           "ops read the value it reads too (a GRU's gates sliced out of one Gemm). "
           "Off on the GPU, whose contraction tiles follow the contraction's result "
           "along one chain of ops to the kernel's output: with several readers the "
           "kernel ran one thread per output element">,
    Option<"maxFusedDepth", "max-fused-depth", "int64_t", /*default=*/"0",
           "The deepest Conv (input channels per group times its window) whose output "
           "a reduction (a global pooling) reduces inside its kernel; 0: any. The "
           "GPU's is 64: such a kernel computes the Conv a thread per row, without its "
           "shared-memory tile (a CNN's last Conv before its pool, channels x 3 x 3 "
           "deep). MatMul and Gemm rows (an attention's scores, a classifier's "
           "Softmax) are not bounded">,
  ];
}

def ConvertDlcToLinalg : Pass<"convert-dlc-to-linalg"> {
  let summary = "Lower dlc ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Rewrites each dlc compute op into `linalg.generic` and named linalg ops on
    tensors (plus `tensor` ops for data movement). Broadcasting becomes indexing maps;
    dynamic sizes are computed from the operands' dims. A kernel result that is a
    reshape of the computed tensor is written as that tensor into a reshaped view of
    the output memref, so the computing op is the one that gets tiled.

    With `unit-convs-as-contractions`, an ungrouped Conv whose kernel is 1 x ... x 1,
    with stride 1 and no pads, becomes the contraction y[n, m, o...] += x[n, c, o...] *
    w[m, c] (the weight collapsed to 2-D), whose operands are read through projected
    permutations like a MatMul's: tensor cores take its tiles (`--precision` below
    fp32 on the CUDA target).

    With `im2col-convs`, every other Conv but a depthwise one becomes implicit GEMM:
    the contraction y[n, m, o...] += cols[n, k, o...] * w[m, k] over k = (c, kernel
    offsets), the weight collapsed to 2-D, where cols is an elementwise producer that
    reads the input element under kernel offset k at output position o (guarded
    loads for the pads). Tiling fuses it into the copies of each reduction step's
    slice into shared memory, so the columns are never stored whole; tensor cores
    take the contraction's tiles. A grouped Conv gets a group dim that all three
    operands read, as a batch: y[n, g, m, o...] += cols[n, g, k, o...] * w[g, m, k]
    (cols reading input channel g * Cg + c), collapsed to [N, M, O...] after.

    With `expand-epilogues` (the GPU), a reshape collapsing dims of a computed result
    (a grouped Conv's [N, G, Mg, ...] to [N, M, ...]) moves past the elementwise ops
    that read it, each computed over the uncollapsed shape instead (upstream's
    reshape propagation by expansion; their other operands expanded alike), up to
    the kernel's output, written through a view of it: the GPU tiling then fuses the
    op into its epilogue's tiles. With the reshape between them, the kernel ran on one
    thread.

    With `sequential-scatters` (the CPU target), ScatterElements and ScatterND become
    a loop nest over the updates, in order, that combines each update into a copy of
    data at its computed address (`tensor.extract`/`tensor.insert` carried through
    `scf.for`): O(updates) work on one thread. Without it a scatter is a generic
    parallel over the output that reduces over the candidate updates (no writes to
    computed addresses, so it tiles and maps to the GPU like any reduction).

    With `full-reductions-over-unit-loop` (the GPU), a Reduce* over every dim of its
    input gets a leading parallel loop of extent 1: its generic writes a `[1]` tensor,
    reshaped to the op's result. dlc-gpu-select-tiling then has a loop to give the
    block and maps the reduction as a cooperative row (a block of threads with partial
    reductions and a merge) instead of one thread.

    With `arg-reductions-in-two-passes` (the GPU), ArgMax/ArgMin become reductions of
    one result each instead of one reduction carrying the best value and its index
    (the GPU tiles roots of one result only; the one of two ran on one thread). Over
    f16, bf16, f32 or integers of up to 32 bits along a static axis shorter than 2^32:
    a `maxui` reduction of 64-bit keys, the value's bits mapped to an unsigned order
    (ArgMin: complemented) above the index (complemented for the first index, so that
    the smaller one wins a tie), -0 keyed as +0, a NaN keyed largest as the first
    element and 0 elsewhere (the one-pass reduction's ties and NaNs); then the index
    from the key's low half. A recognized combiner, so long rows map to cooperative
    blocks. Otherwise two reductions: the best value, then the first (last) index
    holding it (0 when the best is the first element's NaN).
  }];
  let options = [
    Option<"unitConvsAsContractions", "unit-convs-as-contractions", "bool",
           /*default=*/"false",
           "Lower 1x1, stride-1, unpadded, ungrouped Convs as MatMul-like contractions">,
    Option<"im2colConvs", "im2col-convs", "bool", /*default=*/"false",
           "Lower other ungrouped Convs as implicit GEMM over their input's columns">,
    Option<"expandEpilogues", "expand-epilogues", "bool", /*default=*/"false",
           "Move collapses of computed results past the elementwise ops reading them, "
           "and run elementwise ops that read a computed result with unit dims added "
           "(a keepdims reduction's epilogue) over the result's own dims">,
    Option<"sequentialScatters", "sequential-scatters", "bool", /*default=*/"false",
           "Lower scatters as loops over the updates writing computed addresses">,
    Option<"fullReductionsOverUnitLoop", "full-reductions-over-unit-loop", "bool",
           /*default=*/"false",
           "Give reductions over all dims a leading parallel loop of extent 1">,
    Option<"argReductionsInTwoPasses", "arg-reductions-in-two-passes", "bool",
           /*default=*/"false",
           "Lower ArgMax/ArgMin as two one-result reductions (value, then index)">,
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::affine::AffineDialect", "mlir::memref::MemRefDialect"];
}

def DlcSignlessIntegers : Pass<"dlc-signless-integers", "mlir::ModuleOp"> {
  let summary = "Make a kernel function's unsigned integer types signless";
  let description = [{
    ONNX has uint8..uint64; arith and LLVM have signless integers whose ops say how
    they treat the sign. In each kernel function (after dlc-outline-kernels), every dlc
    op with an unsigned integer operand gets `dlc.unsigned` (and a dlc.cast to an
    unsigned type `dlc.unsigned_result`), then every unsigned type (of values,
    arguments, constants' attributes) becomes the signless type of its width. The
    lowering reads the attributes where signedness matters: division and remainder,
    comparisons, max/min (and the reductions and pooling built on them), casts,
    right shifts, Abs/Sign, Pow. The plan, made from `@main` before outlining, keeps
    the unsigned dtypes of the artifact's buffers.
  }];
}

def DlcUntieInits : Pass<"dlc-untie-inits", "mlir::ModuleOp"> {
  let summary = "Give each linalg op an init tensor (tensor.empty, linalg.fill) of its own";
  let description = [{
    CSE merges equal `tensor.empty` and `linalg.fill` ops, so two linalg ops can start
    from one init tensor. Empty-tensor elimination then turns that shared init into a
    kernel output's buffer for both, and bufferization writes the other op's result
    there too (TopK's values and indices, both int64, came out equal). This pass, run
    right before the elimination, clones a shared empty or fill for each linalg op
    that takes it as an init beyond the first, so each output gets a buffer of its own.
  }];
}

def DlcHalfActivations : Pass<"dlc-half-activations", "mlir::func::FuncOp"> {
  let summary = "Pass activations that are only read rounded between kernels in half precision (GPU, --precision fp16|bf16)";
  let description = [{
    After dlc-form-kernels: an f32 kernel result whose every reader rounds it to f16
    (`precision=fp16`) or bf16 (`precision=bf16`) first (a Conv's input, a MatMul's or
    Gemm's factor, directly or through data movement and monotone selections such as
    Relu and MaxPool, or a result this pass rounded) is rounded by its producer: a
    `dlc.cast` to the half type before the kernel's yield, the result and the
    metadata-only reshapes between take the half type, and each reading kernel widens
    its input back to f32 first thing. Rounding is to nearest even, as tensor cores
    round their operands, so their tiles compute what they computed from the f32
    activation, from half the bytes. Model outputs and values any other op reads keep
    f32. fp32 and tf32 leave the graph alone.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"fp32\"",
           "fp32, tf32, fp16 or bf16: the contractions' precision">,
  ];
}

def DlcOutlineKernels : Pass<"dlc-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Turn each dlc.kernel into a function over memrefs";
  let description = [{
    For each `dlc.kernel` in `@main`, creates
    `func.func @<name>(%in: memref..., %out: memref..., %wg: index, %nwg: index)`
    whose body reads inputs through `bufferization.to_tensor` and writes each result
    with `bufferization.materialize_in_destination` into its output memref, then
    erases `@main`: the host side of the model is the plan, not code. An input bound
    to a weight (a `dlc.constant` or a view of one) gets the argument attribute
    `dlc.constant`.
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect",
                           "mlir::memref::MemRefDialect"];
}

def DlcTileWorkgroups : Pass<"dlc-tile-workgroups", "mlir::ModuleOp"> {
  let summary = "Tile each kernel's root op over workgroups (scf.forall)";
  let description = [{
    Tiles the root (last) linalg op of every kernel function into `%nwg` slices of one
    parallel loop with `scf.forall`, fusing its producers into the tile. The loop is
    the first, unless the first's extent is not known to be 8 or more (a symbolic
    batch, 1 at inference) and the root has 3 or more loops; then, for a kernel without
    a contraction (no op reduces products of two inputs), the second (channels, heads)
    if it is parallel, walks an output dim and is symbolic or 8 or more; for a kernel
    whose contraction is a 2-D Conv (3 reduction loops, 2 or more input channels a
    group, a million flops or more at batch 1, a symbolic image dim counted as 16), the
    third (output rows) if the root has 4 or more loops and it is parallel, walks an
    output dim and is symbolic or 4 or more: each workgroup computes its rows' bias,
    Conv and epilogue where it writes them (the second, output channels, instead where
    there are fewer rows, or the weight has more elements than the images, and there
    are 64 channels or more over 32 pixels or more); for a depthwise Conv (the channel
    reduction spans 1, a million flops or more), the second (channels) if it is
    parallel, walks an output dim and is symbolic or 2 or more: each workgroup pads,
    convolves and finishes its own planes; for a MatMul-like contraction (one
    reduction loop, 400K flops or more) whose root's loop 1 walks rows that only one
    input reads (a Linear layer over [1, rows..., K]), that loop, or, where the
    weight (input 1) has more elements than input 0, the root's last loop (the
    weight's columns) if it spans 256 or more; neither for few rows against a big
    weight (below).
    Other contractions keep the first: their micro-kernel splits one workgroup's work
    over the cores itself. A contraction of few rows (at most 32: the product of the
    parallel loops an operand of 1 MiB or more does not read, a symbolic first loop
    counting as one) against that operand (a classifier's weight at a small batch) is
    not tiled: one workgroup, whose micro-kernel splits the weight's columns over the
    cores, instead of every workgroup streaming the whole weight. The kernel gets
    `dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = B, dims = [D], tile = 1>]>`: one workgroup per index of the output dim that loop
    walks (dim D of buffer argument B), from which the runtime computes the useful
    workgroup count. When producers were fused, each workgroup's slice is tiled once
    more with `scf.for`, one index of the first loop at a time, so the fused temporaries
    hold one row rather than the whole slice; without a contraction among them, and
    when a row's parallel loops still cover more than 128 KiB of f32 output (a
    MaxPool's image), one index of the second loop (if parallel) at a time as well; a
    second loop the workgroups split (its slice then symbolic) goes one index at a
    time when the static parallel loops after it cover 16 KiB or more (a Softmax's
    long rows at a symbolic batch). A Conv with an epilogue after it (the root over
    [N, F, H, W]) goes one image and, for a 2-D Conv, as many output rows at a time
    as 128 KiB of its result hold but at least 512 output pixels, or, for a depthwise
    Conv, as many channels as 256 KiB of its padded input and result planes hold (in
    blocks of 16 from 16 on): the Conv's result stays in L2 between the micro-kernel
    and the epilogue.
    A kernel whose output is a chain of `tensor.insert_slice`s (a Concat) of copied
    kernel arguments into an empty tensor or the output itself has no linalg root:
    when every insert spans some dim of the output whole (static, 2 or more; the
    innermost only from 256), the first such dim is split over `%nwg` workgroups, each
    copying its range of every input (`scf.forall` with one `parallel_insert_slice`
    per input).
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::affine::AffineDialect"];
}

def DlcFoldPadIntoLoads : Pass<"dlc-fold-pad-into-loads", "mlir::ModuleOp"> {
  let summary = "Read padded linalg.generic inputs with guarded loads instead of a pad";
  let description = [{
    Replaces a static, constant-valued `tensor.pad` feeding a `linalg.generic` input
    (Conv's and pooling's padded input) by a `tensor.extract` in the body at a clamped
    index, selected against the pad value when out of bounds. Tiling then needs no
    padded copy of each tile (the CUDA pipeline runs it before dlc-tile-gpu).

    A kernel's shared-memory contraction (a padded Conv, see dlc-tile-gpu) instead
    reads a separate elementwise producer of the padded input made of those guarded
    loads: dlc-tile-gpu fuses it into the copies of the input's slices into shared
    memory, so the Conv keeps its input as a tiled operand.
  }];
  let options = [
    Option<"contractionTiles", "contraction-tiles", "bool", /*default=*/"true",
           "Keep the padded input of a shared-memory contraction an operand (as "
           "dlc-tile-gpu's option of that name)">,
  ];
  let dependentDialects = ["mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
                           "mlir::tensor::TensorDialect", "mlir::linalg::LinalgDialect"];
}

def DlcCopiesAsGenerics : Pass<"dlc-copies-as-generics", "mlir::ModuleOp"> {
  let summary = "Give data-movement kernels (Slice, Concat) a linalg root to distribute";
  let description = [{
    A kernel function whose linalg ops are transposes, copies and elementwise generics
    only and whose output is an `extract_slice` (a Slice) or a chain of `insert_slice`s
    along one axis (a Concat; one insert into an empty tensor: a Concat whose other
    inputs were empty) of inputs, or of transposes, broadcasts, slices and elementwise
    generics of them, has nothing the GPU tiling distributes over threads, so it ran on
    one thread. Its output becomes one elementwise `linalg.generic`: a copy of the
    slice of an input, or a generic over the output whose body reads each element from
    the inputs behind the remaps and slices, an elementwise generic's body inlined at
    that index (for the Concat, the one input holding it: `scf.if` on the index along
    the axis, `tensor.extract` at the input's index). The
    CUDA pipeline runs it before the empty-tensor elimination (which then gives the
    generic the output as its init); the CPU tiles insert chains itself
    (dlc-tile-workgroups).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect", "mlir::tensor::TensorDialect"];
}

def DlcFuseScalarProducers : Pass<"dlc-fuse-scalar-producers", "mlir::ModuleOp"> {
  let summary = "Fuse elementwise producers of rank-0 values into elementwise consumers";
  let description = [{
    An elementwise `linalg.generic` producing a rank-0 tensor is fused into each
    elementwise `linalg.generic` reading it (upstream's elementwise-op fusion, with a
    control that accepts rank-0 operands between all-parallel generics only): every
    element recomputes the scalar from the kernel's rank-0 inputs.

    The CUDA pipeline runs it before dlc-bubble-up-slices: the block and thread tiles
    fuse producers through the slices of their operands, and a rank-0 operand has
    none, so a scalar computed in the kernel (a DynamicQuantizeLinear's zero point
    subtracted from every element) stayed outside the tiles, and its write made the
    whole kernel run on one thread.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

def DlcBubbleUpSlices : Pass<"dlc-bubble-up-slices", "mlir::ModuleOp"> {
  let summary = "Compute a sliced producer's slices alone, so the GPU tiles fuse it";
  let description = [{
    A `tensor.extract_slice` (unit strides) of a linalg op on tensors whose results
    are read by such slices only is replaced by the op computing that slice alone
    (`TilingInterface::generateResultTileValue`: the tiles of its operands the slice
    needs, its `linalg.index` ops offset), and the op goes. Applied to a fixpoint, the
    slices move up through chains of producers to the kernel's inputs.

    The CUDA pipeline runs it before dlc-fold-transposes-into-operands: the fusion
    into block and thread tiles finds the producer of a tile slice's source only, so a
    producer behind a slice (a Split of a Conv's or Gemm's result, a Slice of a
    transposed detector head) stayed outside the tiles, computed whole by one thread.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect", "mlir::arith::ArithDialect"];
}

def DlcFoldTransposesIntoOperands
    : Pass<"dlc-fold-transposes-into-operands", "mlir::ModuleOp"> {
  let summary = "Read transposed linalg.generic inputs through their indexing maps";
  let description = [{
    A `linalg.transpose` (on tensors) feeding an input of a `linalg.generic` is replaced
    by its source, with the input's indexing map permuted so that the generic reads the
    same elements: element r of transpose(x, perm) is x[s] with s[perm[i]] = r[i]. The
    transpose is left for the canonicalizer to delete when nothing else reads it.

    The CUDA pipeline runs it before dlc-gpu-select-tiling: a transpose fused into a
    contraction's block tile (an attention's `softmax(QK^T) x V` reading V transposed)
    would be copied whole by every thread of the block, on the device heap when a dim
    is symbolic, before the shared-memory tiles read it.
  }];
}

def DlcMergeEpilogueDags : Pass<"dlc-merge-epilogue-dags", "mlir::ModuleOp"> {
  let summary = "Merge a contraction's elementwise epilogue DAG into one generic";
  let description = [{
    When the elementwise ops after a contraction (a linalg op with reduction loops and
    one use) use a value more than once before their last op (GELU over MatMul + bias:
    the sum feeds both the Erf branch and the final product), they are fused into one
    elementwise `linalg.generic` with upstream elementwise fusion. A chain of ops is
    left alone. The CUDA pipeline runs it before dlc-gpu-select-tiling, whose
    shared-memory contraction tiles take a chain of epilogue ops only (tiling a DAG
    would fuse the contraction into each use).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def DlcGpuSelectTiling : Pass<"dlc-gpu-select-tiling", "mlir::ModuleOp"> {
  let summary = "Choose each kernel's CUDA tiling and write it as #dlc.gpu_config";
  let description = [{
    For every kernel function (linalg on tensors, after dlc-fold-pad-into-loads),
    chooses how its blocks and threads compute (the heuristic is in docs/cuda.md and
    GpuSelectTiling.cpp) within the limits of the architecture `arch`, and writes
    `dlc.gpu_config = #dlc.gpu_config<...>`: the mapping (`threads`, `rows`,
    `contraction` or `serial`), the launch grid (one block per block tile, over the
    kernel's output), the block's threads, the block/thread/row tiles per root loop,
    the contraction's micro-tile, reduction step and buffer bounds, and the shared
    memory the target allows. Nothing else changes: dlc-tile-gpu applies the config.
    A kernel that gets `serial` (one thread) gets a remark saying why.
  }];
  let options = [
    Option<"contractionTiles", "contraction-tiles", "bool", /*default=*/"true",
           "Compute contractions (MatMul, Gemm, Conv) through shared-memory tiles; "
           "false: one thread per output element, from global memory">,
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "The CUDA architecture whose limits the tiling respects">,
    Option<"precision", "precision", "std::string", /*default=*/"\"fp32\"",
           "fp32, tf32, fp16 or bf16: below fp32, a contraction tile whose shape and "
           "architecture allow it runs on tensor cores (mma.sync), its operands rounded "
           "to that precision, accumulating in f32 (the config's `mma`)">,
  ];
}

def DlcTileGpu : Pass<"dlc-tile-gpu", "mlir::ModuleOp"> {
  let summary = "Tile each kernel's root op as its #dlc.gpu_config says";
  let description = [{
    Requires `dlc.gpu_config` (dlc-gpu-select-tiling) on each kernel function; a
    kernel without one, or with mapping `serial`, is left alone. Tiles the root linalg
    op with `scf.forall` into the config's block tiles (`#gpu.block` mapping), then,
    inside each block, by the mapping: `threads` tiles it once more over the threads
    (`#gpu.thread`); `rows` splits each reduction in the block into partial reductions
    per thread and a merge, and an elementwise root's row over the threads; and
    `contraction` stages the contraction's reduction through block buffers in steps
    and gives each thread a micro-tile. Producers are fused into both levels. A config
    that cannot be applied is a remark naming the kernel (a `rows` config then becomes
    `threads` with one thread per block); a contraction that cannot be tiled is an
    error.

    A tensor-core contraction's operand buffers get their rows padded so that a
    warp's fragment reads hit distinct banks, except (`swizzle-shared`) 16-bit
    buffers whose rows dlc-gpu-swizzle-shared permutes instead (mma::swizzlesRows),
    which saves the padding's shared memory.
  }];
  let options = [
    Option<"swizzleShared", "swizzle-shared", "bool", /*default=*/"false",
           "Leave unpadded the 16-bit tensor-core operand buffers that "
           "dlc-gpu-swizzle-shared will swizzle">,
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::affine::AffineDialect",
                           "mlir::gpu::GPUDialect", "mlir::arith::ArithDialect",
                           "mlir::bufferization::BufferizationDialect"];
}

def DlcGpuMma : Pass<"dlc-gpu-mma", "mlir::gpu::GPUModuleOp"> {
  let summary = "Lower warp-level contractions marked dlc.mma to nvvm.mma.sync";
  let description = [{
    In the kernels of a gpu.module (after dlc-map-to-gpu), each linalg contraction
    that dlc-tile-gpu marked `dlc.mma = #dlc.gpu_mma<...>` is computed by one warp: its
    32 lanes load their fragments of the A and B tiles and of the accumulator from
    (shared) memory, by the PTX ISA's fragment layout of `mma.sync.m16n8kK`, run the
    tensor-core instructions over the tile's 16 x 8 pieces and K steps, and store the
    accumulator's fragments back. The tile must be static, its M a multiple of 16, N
    of 8 and K of the instruction's K; anything else is an error (dlc-gpu-select-tiling
    only marks tiles that fit). The GPU emulation never runs this pass: there the
    contraction runs as loops on the same rounded operands.

    With `wgmma` (sm_90a), a block whose warps' tiles cover its M x N tile, M a
    multiple of 64, with its accumulator in registers over the K loop, computes
    warpgroup tiles of 64 x N' with `wgmma.mma_async` instead (f16, bf16: k16; tf32:
    k8): A and B are read by the instruction from shared memory through matrix
    descriptors, their buffers stored in its K-major layout without swizzling (the
    copies into them become loops of stores at those places), a `fence.proxy.async`
    before the step's barrier, one commit and wait per K step.
  }];
  let options = [
    Option<"wgmma", "wgmma", "bool", /*default=*/"false",
           "Warpgroup tiles on wgmma.mma_async where a block's tile allows (sm_90a)">,
  ];
  let dependentDialects = ["mlir::affine::AffineDialect", "mlir::NVVM::NVVMDialect", "mlir::LLVM::LLVMDialect",
                           "mlir::vector::VectorDialect", "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect", "mlir::nvgpu::NVGPUDialect",
                           "mlir::scf::SCFDialect"];
}

def DlcGpuRegisterEpilogue : Pass<"dlc-gpu-register-epilogue", "mlir::gpu::GPUModuleOp"> {
  let summary = "Apply a tensor-core tile's epilogue to its fragments in registers";
  let description = [{
    Runs after dlc-gpu-mma. Where a tile's accumulator fragments stay in registers
    over the K loop, its workgroup accumulator buffer was still filled, loaded from
    before the loop, stored to after it and read by the block's threads for the
    epilogue (bias, activation, the copy to the output). Here every lane applies the
    epilogue to its own fragments: the epilogue loop's body is cloned per stored
    fragment, with the fragment's coordinates for the ones the loop derived from its
    induction variable and the fragment's value (in a one-element local buffer) for
    the shared element; the initial fragments become the fill's value; the fill, the
    stores, the barriers between the stores and the epilogue, the epilogue loop and
    the buffer go.

    ```mlir
    scf.for %i = %tid to %c4096 step %c256 {   // fill
      ... linalg.fill ins(%zero) outs(%acc[%i / 64, %i % 64])
    }
    %a0 = memref.load %tile[%r, %c]            // ... 16 fragments
    %f:16 = scf.for %k ... iter_args(%a0, ...) // nvvm.mma.sync
    memref.store %f#0, %tile[%r, %c]           // ...
    gpu.barrier
    scf.for %i = %tid to %c4096 step %c256 {   // epilogue
      %e = memref.subview %acc[%i / 64, %i % 64] [1, 1] [1, 1]
      linalg.generic ins(%e, %bias[%i % 64]) outs(%out[%i / 64, %i % 64]) { addf }
    }
    // becomes
    %f:16 = scf.for %k ... iter_args(%zero, ...)
    %e = memref.alloca() : memref<1x1xf32>     // ... per fragment
    memref.store %f#0, %e[0, 0]
    linalg.generic ins(%e, %bias[%c0]) outs(%out[%r0, %c0]) { addf }
    ```

    A fragment outside the epilogue's view of the buffer (a tile's padding past the
    output's edge) or past the loop's end is skipped, as the loop skipped it (scf.if).
    The buffer must be used only that way: a thread loop filling it with one value,
    fragment loads and stores outside loops in the epilogue loop's block, and a thread
    loop (from thread_id.x by the block's threads) whose one-element view of it is
    indexed by the mixed-radix digits of its induction variable, reading no other
    shared memory; anything else leaves the kernel as it is.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect"];
}

def DlcVectorizeThreadTiles : Pass<"dlc-vectorize-thread-tiles"> {
  let summary = "A thread's elementwise tile of 2-8 neighbours as vector accesses (GPU)";
  let description = [{
    After dlc-map-to-gpu, each linalg.generic on memrefs whose loops are all parallel,
    whose innermost loop has a static extent V of 2 to 8 (a power of two) and whose
    outer loops have at most 4 iterations (a thread's tile of an elementwise kernel:
    dlc-gpu-select-tiling gives each thread 4 neighbours along the innermost output dim),
    with an elementwise scalar body and one output, becomes vector code:

    ```mlir
    linalg.generic ins(%a, %bias : memref<1x4xf32, strided<[1024, 1], offset: ?>>,
                                   memref<4xf32, strided<[1], offset: ?>>)
                   outs(%y : memref<1x4xf32, strided<[1024, 1], offset: ?>>) {addf}
    // becomes
    %0 = vector.load %a[%c0, %c0] {alignment = 16 : i64} : ..., vector<4xf32>
    %1 = vector.load %bias[%c0] {alignment = 16 : i64} : ..., vector<4xf32>
    %2 = arith.addf %0, %1 : vector<4xf32>
    vector.store %2, %y[%c0, %c0] {alignment = 16 : i64} : ..., vector<4xf32>
    ```

    An operand whose innermost dim (of stride 1) the innermost loop walks is a
    vector.load or vector.store; an operand it does not index, a scalar load and a
    broadcast; any other operand leaves the generic alone. An access carries
    `alignment` (V times the element's bytes, at most 16) when its first element's
    offset is a known multiple of that from a kernel argument (every buffer the
    runtimes bind is aligned to 16 bytes or more: 64 on the GPU, 16 for the CPU's
    inputs) or an alloca aligned to 16 or more: the
    subview offsets times their static strides, and the access's indices, are
    constants, sums and products of multiples (`tile_id * 4`), or affine maps of
    them. NVPTX then emits 128-bit ld.global.v4 / st.global.v4.

    A contraction step's guarded copy (no inputs: it reads and clamps in its body)
    reads a chunk of V lanes with one vector load where the extent it is guarded and
    clamped to and lane 0's index are multiples of V. Where that rests on values known
    only at run time (a symbolic K: attention's P V over a symbolic sequence), the step
    loop (the loop around it with barriers) is versioned:
    `scf.if (x % V == 0 for each such x)`: the then-copy sees each x as `(x / V) * V`
    and the buffer it reads, when its innermost extent is dynamic, through a
    `memref.reinterpret_cast` with that extent so rounded (its rows start at multiples
    of V elements), and its copies vectorize; the else-copy keeps the generic.

    With `verify-alignment` (the GPU emulation) each aligned access is preceded by a
    `cf.assert` that its address is a multiple of the alignment claimed, so the
    emulated suites check the proof on every kernel they run.
  }];
  let options = [
    Option<"verifyAlignment", "verify-alignment", "bool", /*default=*/"false",
           "Assert at run time that each aligned access is aligned">,
  ];
  let dependentDialects = ["mlir::vector::VectorDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect", "mlir::cf::ControlFlowDialect",
                           "mlir::scf::SCFDialect", "mlir::affine::AffineDialect"];
}

def DlcUnrollThreadLoops : Pass<"dlc-unroll-thread-loops", "mlir::gpu::GPUModuleOp"> {
  let summary = "Unroll the loops that deal a block's iterations to its threads";
  let description = [{
    In the kernels of a gpu.module (after dlc-map-to-gpu and canonicalization), a
    loop `scf.for %i = thread_id.x to N step T` with constants N and T, T the block's
    threads (`dlc.block`, one-dimensional), becomes a loop over the thread's N / T
    whole iterations, `%i = thread_id.x + j * T`, and a copy of the body guarded by
    `%i < N` for the last when T does not divide N; up to 16 whole iterations the
    loop is unrolled, so that the
    loads of all of them issue before their values are used (a contraction step's
    copies into shared memory waited one memory latency per element). With N dynamic
    and a constant upper bound B (value bounds: an edge tile's `min(64, rows) * 4`),
    up to ceil(B / T) <= 16 copies of the body, each guarded by `%i < N`. A loop
    over a thread's own tile with a dynamic extent bounded by 4 becomes guarded copies
    of its body, and a static loop of up to 32 iterations that indexes a private
    buffer (memref.alloca) by its induction variable (a thread's row of scores with
    its Softmax) is unrolled whole (up to 4096 ops), so that the buffers' indices are
    constants and LLVM keeps them in registers, not local memory.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect"];
}

def DlcGpuRegisterAccumulators
    : Pass<"dlc-gpu-register-accumulators", "mlir::gpu::GPUModuleOp"> {
  let summary = "Carry an FMA contraction tile's accumulators in registers across its steps";
  let description = [{
    In the kernels of a gpu.module (after dlc-gpu-mma and dlc-gpu-register-epilogue),
    a thread's micro-tile of an FMA contraction tile: a linalg.generic
    with a reduction, directly in a loop with a barrier (the tile's steps), with static
    loop ranges (at most 64 accumulator elements and 4096 iteration points), whose
    output is a view defined outside the loop of a buffer no other op of the loop
    uses. Its accumulator elements become values the loop carries (iter_args): loaded
    from the view before the loop, after a barrier (the block's threads filled the
    buffer), and stored to it after the loop, where the epilogue reads them. In the
    loop the generic is unrolled point by point in its loop order, each element's
    updates in the order the loop made them (the same sums), each operand element
    loaded once. Before, each step loaded and stored the accumulator in shared memory
    once per k. Runs before dlc-vectorize-thread-tiles and dlc-unroll-thread-loops: a
    thread loop of one iteration (`thread_id.x to T step T` in a block of T threads)
    is inlined first and loop-invariant code hoisted, so that the micro-tile's view
    leaves the step loop; dlc-gpu-register-epilogue then runs again and applies the
    epilogue to the values stored after the loop.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect", "mlir::gpu::GPUDialect"];
}

def DlcGpuAsyncCopies : Pass<"dlc-gpu-async-copies", "mlir::gpu::GPUModuleOp"> {
  let summary = "Copy a contraction's steps into shared memory ahead of its products (cp.async)";
  let description = [{
    In the kernels of a gpu.module (after dlc-unroll-thread-loops, linalg-to-loops and
    loop-invariant code motion): a reduction-step loop of a shared-memory contraction
    tile (a static trip count of two or more, or one known at run time; its body:
    address arithmetic, a barrier,
    copies of the step's operand slices from global into shared memory, a barrier,
    products from shared memory) gets `stages` shared buffers per operand. Its plain
    copies of 4, 8 or 16 aligned bytes become `nvgpu.device_async_copy` (cp.async,
    sm_80 on; 16-byte ones bypass L1), issued `stages - 1` steps ahead: the first
    `stages - 1` steps' before the loop, then per step: wait for its group
    (`nvvm.cp.async.wait.group`), one barrier, issue the copies of the step
    `stages - 1` ahead into the buffer the previous step read and commit them, compute.
    Copies that convert on the way (or every copy before sm_80) are staged through
    registers: loaded where the cp.async ones are issued, converted and stored after
    the products (two buffers suffice then). The loop is unrolled by the number of
    stages so that each step names its buffers statically; steps past the last
    multiple follow the loop. With a trip count known at run time (a reduction over a
    symbolic length), the first steps' copies and the steps past the last whole
    multiple are each guarded by the step existing. The stages shrink to what the
    architecture's static shared memory holds and to a static trip count. wgmma
    products (sm_90a) take the copy phase's closing fence.proxy.async behind each
    step's wait. The two versions of a step loop in the branches of one scf.if
    (dlc-vectorize-thread-tiles) share their step buffers and the extra stage buffers
    too: they never run together. Loops that do not qualify (zero-filled partial
    steps, converting copies inside loops) keep their register-staged copies
    (dlc-pipeline-steps).
  }];
  let options = [
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "The CUDA architecture (cp.async needs sm_80 or later)">,
    Option<"stages", "stages", "int64_t", /*default=*/"3",
           "Shared buffers per operand (copies in flight plus the one computed on); "
           "1: the loops are left to dlc-pipeline-steps">,
  ];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect", "mlir::nvgpu::NVGPUDialect",
                           "mlir::NVVM::NVVMDialect"];
}

def DlcPipelineSteps : Pass<"dlc-pipeline-steps", "mlir::gpu::GPUModuleOp"> {
  let summary = "Issue a contraction step's global loads during the previous step";
  let description = [{
    In the kernels of a gpu.module (after dlc-unroll-thread-loops, linalg-to-loops
    and loop-invariant code motion), a loop with a static trip count of two or more,
    with a barrier, whose global loads (of kernel arguments) are all at its top level
    and which writes no global memory (a contraction tile's reduction steps) is
    software-pipelined in two stages with scf::pipelineForLoop: the global loads and
    their address arithmetic of iteration i + 1 run first in iteration i (before its
    first barrier), their values carried into the next iteration; the first
    iteration's loads before the loop, the last iteration's rest after it.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect"];
}

def DlcSimtKernels : Pass<"dlc-simt-kernels", "mlir::ModuleOp"> {
  let summary = "The gpu.module's kernels as CPU functions of one GPU thread (SIMT emulation)";
  let description = [{
    For DLC_EMULATE_GPU=simt, after the kernel-code passes: each `gpu.func` kernel
    becomes a `func.func` CPU kernel (`dlc.kernel`, C interface) over the same buffers
    plus the workgroup index and count, which the runtime's SIMT emulator
    (runtime/Simt.cpp) calls once per GPU thread with the block id and the grid size,
    each thread on its own fiber. In its body:
    - `gpu.block_id x` is the workgroup index, `gpu.grid_dim x` the count,
      `gpu.block_dim x` the block size (`dlc.block`), `gpu.thread_id x` a call to
      `dlc_uk_simt_thread`, `gpu.lane_id` the thread id modulo 32 (y and z: 0, dims 1);
    - workgroup attributions are private thread-local globals `dlc_simt_shared_*` (one
      copy per worker thread, whose blocks run one at a time), private ones allocas;
      every GPU address space is dropped from memref types;
    - `gpu.barrier`, `gpu.shuffle` (32-bit values), `nvgpu.ldmatrix` (16-bit elements)
      and `nvvm.mma.sync` (m16n8k16 f16/bf16, m16n8k8 f16/tf32, f32 accumulators) are
      calls to the emulator (`dlc_uk_simt_*`), operands and results passed through
      small per-thread buffers;
    - `nvgpu.device_async_copy` (its token unused), `nvvm.cp.async.commit.group` and
      `nvvm.cp.async.wait.group` are calls too: the emulator lands a thread's copies in
      shared memory when it waits for their group, as late as the ISA allows.
    Any other GPU operation (sm_90a's wgmma, say) is an error naming it. Each vector
    load and store with an alignment (a 128-bit PTX access, which faults on the GPU
    when misaligned) asserts it (`cf.assert`), after all kernel-code passes: the
    emulated code is the code the GPU runs.
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
                           "mlir::cf::ControlFlowDialect",
                           "mlir::arith::ArithDialect", "mlir::vector::VectorDialect",
                           "mlir::LLVM::LLVMDialect"];
}

def DlcMapToGpu : Pass<"dlc-map-to-gpu", "mlir::ModuleOp"> {
  let summary = "Move bufferized kernels into a gpu.module, foralls onto block/thread ids";
  let description = [{
    After bufferization, turns each kernel function into a `gpu.func` kernel of
    `gpu.module @dlc_kernels` over its memref arguments (the workgroup arguments go).
    The block-level `scf.forall` becomes a guarded delinearization of `gpu.block_id x`
    and the thread-level one of `gpu.thread_id x`. Where memory is written outside
    those loops the mapping would race, so that level is run as plain loops by a single
    block or thread instead. Static allocations become `memref.alloca`. Each kernel gets
    `dlc.block = [threads]` for the launch plan.

    With `emulate=true` (a CPU check of the GPU mapping, `DLC_EMULATE_GPU=1`) the
    kernels stay CPU kernel functions: the same guarded delinearizations run inside
    loops over the block ids `wg, wg + nwg, ...` and over the thread ids, each
    iteration in its own `memref.alloca_scope`. Without barriers or shared memory,
    running a block's threads one after another is a valid schedule, so the CPU
    computes exactly what the GPU mapping prescribes.
  }];
  let options = [
    Option<"emulate", "emulate", "bool", /*default=*/"false",
           "Keep CPU kernels; run blocks and threads as loops">,
    Option<"strictBlocks", "strict-blocks", "bool", /*default=*/"false",
           "Fail when a cooperative block (dlc.gpu_block_threads) cannot be planned "
           "and would run on one thread (checks; DLC_STRICT_GPU_BLOCKS=1)">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect"];
}

def DlcBufferize : Pass<"dlc-bufferize", "mlir::ModuleOp"> {
  let summary = "One-shot bufferization of kernel functions, copies as linalg.copy";
  let description = [{
    Runs One-Shot Bufferize on the kernel functions (their arguments are already
    memrefs). Copies are created as `linalg.copy` rather than `memref.copy`, so they
    lower to plain loops instead of calls into MLIR's C runner library, which the
    artifact does not carry.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::memref::MemRefDialect"];
}

def DlcDistributeWorkgroups : Pass<"dlc-distribute-workgroups", "mlir::ModuleOp"> {
  let summary = "Replace the workgroup scf.forall by the kernel's workgroup id";
  let description = [{
    After bufferization, inlines the body of each kernel's workgroup `scf.forall
    (%i) in (%nwg)` with `%i` replaced by the `%wg` argument, so each call computes one
    workgroup's slice (the IREE way: the kernel reads its id, the host picks the grid).
  }];
}

def DlcBiasIntoAccumulator : Pass<"dlc-bias-into-accumulator", "mlir::ModuleOp"> {
  let summary = "Start a contraction's accumulator at its bias (CPU)";
  let description = [{
    A contraction (any linalg op that adds its terms to its output: `out + f(..)`,
    float) into a zero-filled scratch buffer whose only other reader is an
    epilogue `out = acc + bias` (float add, `acc` read in loop order, the bias read
    with any map) becomes a broadcast of the bias into `out` and the contraction
    accumulating into `out`; the scratch buffer, its fill and the epilogue go:

    ```mlir
    %acc = memref.alloc() : memref<20x18710xf32>
    linalg.fill ins(%zero : f32) outs(%acc : memref<20x18710xf32>)
    linalg.matmul ins(%a, %w : ...) outs(%acc : memref<20x18710xf32>)
    linalg.generic {..} ins(%acc, %bias : ...) outs(%out : ...) { addf }
    // becomes
    linalg.generic {..} ins(%bias : memref<18710xf32>) outs(%out : ...) { yield }
    linalg.matmul ins(%a, %w : ...) outs(%out : ...)
    ```

    Only where nothing between the contraction and the epilogue touches memory (the
    contraction moves down to the epilogue) and the contraction reads neither `out`
    nor the bias from `out`'s buffer. The sum adds the bias first (another rounding
    order).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def DlcCpuUkernels : Pass<"dlc-cpu-ukernels", "mlir::ModuleOp"> {
  let summary = "Replace f32 and i32 contractions and transposing copies on buffers by calls to the runtime's micro-kernels";
  let description = [{
    On the CPU, after bufferization: every `linalg.generic` of the form
    `out += in0 * in1` over f32 buffers (or i32 with `arith.muli`/`addi`, calling
    `dlc_uk_contract_i32`) whose indexing maps are linear in the loops
    (MatMul, Gemm, batched MatMul, Conv of any stride, dilation and groups, Einsum)
    and whose output map is a projected permutation becomes a call to
    `dlc_uk_contract_f32`, the runtime's packed, register-blocked GEMM
    (runtime/Ukernels.h). The call takes a descriptor built on the stack: the
    operands' addresses, and per loop its extent, kind and element stride in each
    operand (from the buffers' strides, so subviews and dynamic shapes work).
    Contractions with more than 12 loops, other element types or non-linear maps stay
    loops. A copy that permutes dimensions and moves the innermost one (a
    `linalg.transpose`, or a generic yielding its input under permutation maps; 1-,
    2-, 4- or 8-byte elements, both buffers contiguous along their last dim) becomes
    a call to `dlc_uk_transpose`, a blocked transpose, with a descriptor of the
    element size, both addresses and per loop its extent and strides. The code
    section lists the micro-kernels it calls (`dlc_ukernels`) and the loader binds
    them.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::func::FuncDialect"];
}

def DlcSplitReductions : Pass<"dlc-split-reductions", "mlir::ModuleOp"> {
  let summary = "Reduce whole buffers and long rows through 16 partials that vectorize";
  let description = [{
    In kernel functions after bufferization, a `linalg.generic` that reduces through a
    combiner with a neutral element (`yield op(f(in), out)`: addf, minimumf, maxnumf,
    addi, ..., with f pure ops of the input alone or nothing, as LayerNorm's variance
    sums squares) and reads its one input in loop order becomes three (the partials
    fold with the combiner alone):
    - a whole buffer (identity layout) to a rank-0 result, 256 or more elements or a
      symbolic count: the first rows * 16 elements reduced into 16 partials that
      start at the neutral element (the inner loop over independent lanes
      vectorizes, where the single chain of the original waits on each result), the
      partials folded into the result, then the last count mod 16 elements;
    - rows (parallel loops, then reduction loops over dims the input has contiguous,
      the output indexed by the parallel loops in order) of a static 64 or more
      elements, or of a symbolic length (attention's scores over a symbolic
      sequence: its whole vectors of 16 counted at run time): the same per row, the
      partials `[P..., 16]` on the stack when static and at most 4096 elements, else
      on the heap (Softmax over 18710 classes, a global average pool over a 16x16
      map).
    Where the body maps onto vectors (elementwise arith and math ops) the rows of 16
    are reduced as `vector<16xT>` values: four accumulators a row carried by an
    `scf.for` (four rows a step, then one), the body applied to whole vectors (other
    inputs, the same along a row, loaded once and broadcast), the accumulators
    combined and their lanes folded with the result by a `vector.reduction`
    (`fastmath<reassoc>` for float sums): no partials buffer. Other bodies keep the
    partials of linalg generics. The combination order changes (float sums may round
    differently); min and max are exact. CPU only.
  }];
  let dependentDialects = ["mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"];
}

def DlcPrefetchNextRow : Pass<"dlc-prefetch-next-row", "mlir::ModuleOp"> {
  let summary = "Vectorize a row's elementwise pass with a prefetch of the next row";
  let description = [{
    In kernel functions after bufferization, a `linalg.generic` inside an `scf.for`
    over rows whose first input is that loop's row of a bigger buffer
    (`memref.subview %src[.., %iv, ..]` of size 1 there, f32, all its elements along
    the last dim, 256 or more), every loop parallel, first input and output in loop
    order, other inputs the same along the row or 1-D along it, and a body of
    elementwise ops (Softmax's exponentials): becomes an `scf.for` over whole
    `vector<16xf32>` of the row that applies the body to vectors and issues a
    `memref.prefetch` (read, locality 3) of the same line of the input's next row
    (the row at %iv + 1, this one at the last), then the generic on the last
    elements. The next row's lines then arrive while this row computes, where a
    reduction at the start of each row had waited on memory. CPU only.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"];
}

def DlcVectorizeColumnReductions
    : Pass<"dlc-vectorize-column-reductions", "mlir::ModuleOp"> {
  let summary = "Write a column reduction's loops as vectors, four rows a step (CPU)";
  let description = [{
    A generic on buffers that reduces its second-to-last loop into an output indexed
    by its parallel loops, its last loop parallel and contiguous (a column reduction:
    `out[c] = out[c] + x[r, c]`), one input read in loop order and a combiner body of
    elementwise scalar ops, becomes `scf.for` loops: the loops before the reduced one,
    the reduced one in steps of four rows, and inside a loop over the row in
    `vector<16>` that loads the output vector once, applies the body to the four rows'
    vectors in row order and stores it once; the columns past the last whole vector
    and the rows past the last group of four with scalars. The body's operations run
    in the scalar loops' order, so results are the same bit for bit. LLVM had
    unrolled a static row fully and kept the output row in (spilled) registers across
    the rows.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"];
}

def DlcVectorizeNearestRows : Pass<"dlc-vectorize-nearest-rows", "mlir::ModuleOp"> {
  let summary = "Write a nearest upsampling's rows as loads and shuffles (CPU)";
  let description = [{
    A generic on buffers with no inputs, every loop parallel, its output of 32-bit
    elements written in loop order, whose body yields one `memref.load` of an outside
    buffer at `[.., index(last) / s]` (s a constant 2, 4, 8 or 16; the other indices
    free of the last loop's index; a unit-stride last dim), as nearest Resize by an
    integer factor lowers, becomes loops: per 16 outputs a `vector.load` of 16 / s
    inputs and a `vector.shuffle` that repeats each s times, stored as one vector
    (while the input row lasts); the rest of the row element by element. LLVM had
    gathered each output vector, about a cycle an element.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"];
}

def DlcVectorizePoolRows : Pass<"dlc-vectorize-pool-rows", "mlir::ModuleOp"> {
  let summary = "Write a 2-D pool separably: window rows into a row buffer, then the row (CPU)";
  let description = [{
    In kernel functions after bufferization, a `linalg.generic` with one f32 output
    (unit-stride rows, static or symbolic extents) filled with a constant c by the
    `linalg.fill` right before it, two reduction loops (kh, kw) after the output's
    loops, one input read at `[.., sh * oh + dh * i, sw * ow + dw * j]` (sw at most
    4, kw at most 16) and a body that folds it into the output idempotently (max/min
    forms, or a sum from 0): the input either the source itself or a local buffer
    filled whole with c and then given a copy of the source at static offsets (a
    pool's padded copy). Per output row, the window's rows that lie inside the source
    are folded 16 columns a vector into a row buffer (its padding columns hold c),
    then each 16 outputs are folded from kw loads of that buffer (a load of 16 * sw
    elements and a shuffle keeping every sw-th) and stored once, the last partial
    vector masked. The row buffer is on the stack for static widths, from the heap
    for symbolic ones (its length computed at run time). The generic, the output's
    fill and the padded copy are removed; the kernel no longer reads its output, so
    its stores stream.
  }];
  let dependentDialects = ["mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def DlcInterchangeWindows : Pass<"dlc-interchange-windows", "mlir::ModuleOp"> {
  let summary = "Move a row of the output inside a small window's loops, so it vectorizes";
  let description = [{
    In kernel functions after bufferization, a `linalg.generic` whose last loops are
    reductions over a window of at most 64 static points (a pool, a Conv that no
    micro-kernel takes, a reduction over a short axis) and whose one output is
    contiguous along its last dim, indexed there by a parallel loop of 4 or more (or a
    dynamic count): that loop becomes the innermost. Lowered to loops, each iteration
    of the innermost then combines one input with a different output element, along a
    row, which LLVM vectorizes; before, each output element waited on its window's
    previous point. The combination order per element is unchanged. CPU only.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def DlcGpuDynamicShared : Pass<"dlc-gpu-dynamic-shared", "mlir::gpu::GPUModuleOp"> {
  let summary = "Put a kernel's shared buffers past the static limit into dynamic shared memory";
  let description = [{
    In the kernels of a gpu.module (after the kernel-code passes): a kernel whose
    workgroup attributions take more bytes than the architecture's static shared memory
    (48 KiB) takes them from dynamic shared memory instead: one
    `gpu.dynamic_shared_memory` viewed at each buffer's offset (`memref.view`; each
    offset aligned to its buffer's `llvm.align`, 16 bytes at least), the attributions
    removed, and the bytes recorded as `dlc.dynamic_shared`, which its launches pass
    (the runtime opts the kernel in before the first). More than the architecture's
    opt-in maximum on every card that runs its PTX is an error naming the kernel.
  }];
  let options = [
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "The CUDA architecture (its static and opt-in shared memory limits)">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
                           "mlir::gpu::GPUDialect"];
}

def DlcGpuSwizzleShared : Pass<"dlc-gpu-swizzle-shared", "mlir::gpu::GPUModuleOp"> {
  let summary = "Permute the 16-byte chunks of ldmatrix-read shared tiles against bank conflicts";
  let description = [{
    In the kernels of a gpu.module (after the kernel-code passes): a workgroup buffer
    that `nvgpu.ldmatrix` reads (a static, identity-layout buffer of 1-, 2- or 4-byte
    elements whose bytes are a multiple of 128) has every access rewritten to index
    the buffer seen flat at a permuted element: the 16-byte chunk within each
    128-byte line XOR-ed with the line's index modulo 8 (CUTLASS's Swizzle<3,4,3>).
    Eight ldmatrix rows 32, 64 or 128·k bytes apart then read eight different chunks
    of the banks instead of two to eight times the same. The accesses rewritten:
    memref.load/store, nvgpu.ldmatrix, nvgpu.device_async_copy, and 1-D vector
    loads and stores of at most 16 bytes aligned to their size (so none straddles a
    chunk). A buffer with any other use is left as it is. Swizzled buffers get
    `llvm.align` 128.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect"];
}

def DlcHoistBuffers : Pass<"dlc-hoist-buffers"> {
  let summary = "Move a kernel's per-iteration temporaries out of its loops";
  let description = [{
    In kernel functions after bufferization, a `memref.alloc` inside `scf.for` loops
    whose one `memref.dealloc` is in its own block (the buffer dies within the
    iteration) and whose sizes are defined outside the loops moves before the
    outermost such loop, its deallocation after it: every iteration reuses one
    buffer. A moved allocation of static size up to 32 KiB becomes a `memref.alloca`
    in the entry block instead (while the function's static stack memory stays under
    64 KiB), without deallocation. Static `memref.alloca`s inside loops (not yielded)
    move to the entry block too.

    In `gpu.func` kernels (the pass nested in `gpu.module`, after the thread mapping)
    every static `memref.alloca` not yielded moves to the entry block, out of loops
    and branches alike: a thread's small buffers (a vector staged element by element,
    a scalar's round trip) live in registers only when LLVM's SROA promotes them, and
    SROA looks at the entry block's allocas only; the others stay in local memory.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def DlcCollapseElementwiseDims : Pass<"dlc-collapse-elementwise-dims", "mlir::ModuleOp"> {
  let summary = "Merge the short innermost loops of elementwise ops over contiguous buffers";
  let description = [{
    In kernel functions after bufferization, an all-parallel `linalg.generic` whose
    output is in loop order and whose innermost loop is short (static, under 64
    iterations: a Conv epilogue or quantize-dequantize pair on a 4x4 map) gets its
    innermost loops merged outward as far as every operand allows: each operand indexes
    the merged loops by consecutive dimensions whose static strides make them one
    (H and W of an NCHW buffer), or not at all (a per-channel bias stops the merge at
    C, a scalar never does). The merged loop is long and vectorizes; the order of the
    elements is unchanged. A fill of a whole contiguous buffer (identity layout, rank
    2 or more: `linalg.fill`, or a `linalg.map` without inputs yielding a value from
    outside, as bufferization lowers a pad's border) becomes one `linalg.fill` of the
    buffer collapsed to 1-D. CPU only.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::memref::MemRefDialect"];
}

def DlcCpuMathApproximation : Pass<"dlc-cpu-math-approximation", "mlir::ModuleOp"> {
  let summary = "Polynomial approximations of f32 exp, tanh, log and erf in CPU kernels";
  let description = [{
    Rewrites `math.exp`, `expm1`, `tanh`, `log`, `log2`, `log1p` and `erf` on f32 in
    kernel functions into upstream's polynomial approximations (arith ops only), so
    the loops around them vectorize instead of calling scalar libm functions.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

#endif // DLC_PASSES_TD
