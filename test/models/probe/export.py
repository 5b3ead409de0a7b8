#!/usr/bin/env python3
"""Exports one architecture beyond the corpus for the probe (test/models/probe/run.sh).

  .venv-corpus/bin/python test/models/probe/export.py NAME ts|dynamo

writes $DLC_PROBE_DIR/m/NAME_EXP.onnx (default build/probe/m; seeded random weights,
small configs, dynamic batch and spatial/sequence axes; TorchScript exporter at opset
17 or dynamo at opset 18), its inputs for two sizes (s0: batch 1, s1: batch 2) and
onnxruntime's outputs for them. NAME is a key of MODELS (torchvision classifiers and
segmenters, transformers encoders and decoders with tiny configs). IMAGE_SIZE=N exports
and feeds the image models with spatial axes at N x N (default 64 x 64)."""
import os, sys, time, warnings, json
import numpy as np
import torch, torch.nn as nn

OUT = os.path.join(os.environ.get("DLC_PROBE_DIR", "build/probe"), "m")
os.makedirs(OUT, exist_ok=True)
V = 100  # vocab


def randomize(model):
    """build_corpus.randomize, repeated: that module binds torch only inside its main()."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        for p in model.parameters():
            if p.is_floating_point() and p.numel() > 0 and bool((p == p.flatten()[0]).all()):
                p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


class TupleOut(nn.Module):
    """Wraps an HF model: forward(*inputs) -> tuple of chosen output tensors."""
    def __init__(self, m, names, keys):
        super().__init__()
        self.m, self.names, self.keys = m, names, keys

    def forward(self, *args):
        o = self.m(**dict(zip(self.names, args)))
        return tuple(o[k] for k in self.keys)


class SegOut(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


def img(h=64, w=64, spatial=True):
    # IMAGE_SIZE=224 exports and feeds the spatial image models at that size instead.
    if spatial and os.environ.get("IMAGE_SIZE"):
        h = w = int(os.environ["IMAGE_SIZE"])
    return [("pixel_values", np.float32, ["batch", 3, "height" if spatial else h, "width" if spatial else w],
             {"height": h, "width": w})]


def tv(name, h=64, spatial=True, seg=False, **kw):
    def build():
        import torchvision.models as tvm
        import torchvision.models.segmentation as seg_m
        if seg:
            m = getattr(seg_m, name)(weights=None, weights_backbone=None, **kw)
            m.aux_classifier = None
            m = SegOut(m)
        else:
            m = getattr(tvm, name)(weights=None, **kw)
        return m
    return build, img(h, h, spatial), ["out"]


def video(name, frames=8, h=32, **kw):
    """A torchvision video classifier (Conv3d): clips [batch, 3, frames, H, W]."""
    def build():
        import torchvision.models.video as vm
        return getattr(vm, name)(weights=None, **kw)
    return build, [("clips", np.float32, ["batch", 3, frames, h, h], {})], ["out"]


class FlowOut(nn.Module):
    """RAFT: forward(image1, image2) -> its last flow estimate [batch, 2, H, W]."""
    def __init__(self, m, updates):
        super().__init__()
        self.m, self.updates = m, updates

    def forward(self, a, b):
        return self.m(a, b, num_flow_updates=self.updates)[-1]


def flow(name, h=128, updates=3):
    """A torchvision optical flow model (RAFT: a correlation volume, grid_sample
    lookups, a GRU unrolled over `updates` refinement steps) on two images of H x H
    (a multiple of 8, at least 128)."""
    def build():
        import torchvision.models.optical_flow as fm
        return FlowOut(getattr(fm, name)(weights=None), updates)
    return build, [(n, np.float32, ["batch", 3, h, h], {}) for n in ("image1", "image2")], ["out"]


class DetOut(nn.Module):
    """A torchvision detector on one image: forward(images[1, 3, H, W]) -> its
    detections' (boxes, labels, scores[, masks]) in the dict's sorted key order."""
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        o = self.m([x[0]])[0]
        return tuple(o[k] for k in sorted(o))


def det(name, **kw):
    """A torchvision detector with seeded weights and a low score threshold (random
    weights score every class alike, so the default keeps nothing). Its images have
    a dynamic height and width (batch 1: the model takes a list of images), and the
    second size is a different image shape, not batch 2."""
    DETECTORS.add(name)

    def build():
        import re
        import torchvision.models.detection as D
        m = getattr(D, name)(weights=None, weights_backbone=None, **kw)
        # Random class scores are all alike (about 1 / classes): spread the logits of
        # the last classifier layers so that some classes win. Which of many close
        # boxes survive still rests on float rounding (PyTorch and onnxruntime keep
        # different ones), so check.py compares detections as sets, against
        # PyTorch's agreement with onnxruntime as the baseline.
        last = re.compile(r"(cls_logits|cls_score|classification_head\.module_list\.\d+\.1)$")
        with torch.no_grad():
            for n, mod in m.named_modules():
                if last.search(n) and isinstance(mod, (nn.Conv2d, nn.Linear)):
                    mod.weight.mul_(4.0)
        return DetOut(m)
    return build, [("images", np.float32, [1, 3, "height", "width"],
                    {"height": 240, "width": 320})], ["out"]


# Control flow and data-dependent shapes as exporters write them (issue 15): small
# modules, scripted where the loop or branch must stay in the graph (the TorchScript
# exporter keeps a scripted loop as Loop and a data-dependent branch as If; dynamo
# exports the traced path, or fails where torch.export cannot trace the data
# dependence, which run.sh reports as an export failure, not dlc's).
class Recurrent(nn.Module):
    """Embedding, a recurrent stack and a linear head over a token sequence."""
    def __init__(self, cell, **kw):
        super().__init__()
        self.emb = nn.Embedding(V, 16)
        self.rnn = getattr(nn, cell)(16, 24, batch_first=True, **kw)
        self.head = nn.Linear(24 * (2 if kw.get("bidirectional") else 1), 8)

    def forward(self, ids):
        y, _ = self.rnn(self.emb(ids))
        return self.head(y)


class Masked(nn.Module):
    """Boolean-mask selection (NonZero, GatherND), its positions and a sum over them."""
    def forward(self, x):
        m = x > 0.5
        sel = x[m]
        return sel * 2.0, torch.nonzero(m), (x * m).sum(dim=1)


class TopHalf(nn.Module):
    """TopK with k from the input's own length, then a gather by the indices."""
    def forward(self, x):
        k = x.shape[1] // 2
        v, i = torch.topk(x, k, dim=1, largest=True, sorted=True)
        return v, torch.gather(x * 3.0, 1, i), torch.argsort(x, dim=1, descending=True)


class Uniq(nn.Module):
    """Unique of rounded values: sorted values, inverse indices and counts."""
    def forward(self, x):
        y = torch.round(x * 2.0)
        u, inv, cnt = torch.unique(y, sorted=True, return_inverse=True, return_counts=True)
        return u, inv, cnt


class Nms(nn.Module):
    """torchvision's batched NMS on boxes made from the input, then the kept boxes."""
    def forward(self, x):
        import torchvision
        xy = x[:, :2] * 10.0
        wh = x[:, 2:4].abs() * 5.0 + 1.0
        boxes = torch.cat([xy, xy + wh], dim=1)
        scores = torch.sigmoid(x[:, 4])
        cls = (x[:, 5] > 0).to(torch.int64)
        keep = torchvision.ops.batched_nms(boxes, scores, cls, 0.3)
        return boxes[keep], scores[keep], keep


@torch.jit.script
def _running(x: torch.Tensor, steps: int) -> torch.Tensor:
    h = torch.zeros_like(x[0])
    outs = []
    for t in range(steps):
        h = torch.tanh(x[t] + 0.5 * h)
        outs.append(h)
    return torch.stack(outs)


@torch.jit.script
def _until(x: torch.Tensor) -> torch.Tensor:
    y = x
    i = 0
    while bool(y.abs().sum() > 1.0) and i < 20:
        y = y * 0.5
        i += 1
    return y


@torch.jit.script
def _branch(x: torch.Tensor) -> torch.Tensor:
    if bool(x.sum() > 0):
        return x[:, :2] * 2.0
    return torch.cat([x, x], dim=1)


class Scripted(nn.Module):
    """Scripted loops (a for over a runtime length appending to a list, a while on a
    data-dependent condition) and a data-dependent branch whose outputs differ in
    shape."""
    def forward(self, x):
        r = _running(x, x.shape[0])
        return r, _until(x), _branch(x)


def custom(make, inputs):
    return (lambda: make()), inputs, ["out"]


SEQ = lambda: [("input_ids", np.int64, ["batch", "seq"], {"seq": 12})]
ROWS = lambda n=16, c=10: [("x", np.float32, ["batch", "n"] if c is None else ["rows", c],
                           {"n": n, "rows": n})]

# The detectors' keys in MODELS (check.py compares their detections as sets).
DETECTORS = set()

# The sizes of a detector's second input set (s1): height, width.
DET_S1 = {"height": 300, "width": 200}


def hf(model_cls, cfg_cls, cfg, inputs, keys, sub=None):
    def build():
        import transformers
        c = getattr(transformers, cfg_cls)(**cfg)
        m = getattr(transformers, model_cls)(c)
        if sub:
            m = getattr(m, sub)()
        m.eval()
        return TupleOut(m, [i[0] for i in inputs], keys)
    return build, inputs, keys


TOK = lambda: [("input_ids", np.int64, ["batch", "seq"], {"seq": 16}),
               ("attention_mask", np.int64, ["batch", "seq"], {"seq": 16})]
BERTCFG = dict(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
               intermediate_size=64, max_position_embeddings=64)
# wav2vec2 and HuBERT: two small feature-extractor Convs, 2 layers of 32.
W2VCFG = dict(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
              intermediate_size=64, conv_dim=(16, 16), conv_stride=(5, 2), conv_kernel=(10, 3),
              num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, mask_time_prob=0.0)
LLMCFG = dict(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, use_cache=False)

MODELS = {
    "squeezenet1_1": tv("squeezenet1_1"),
    "shufflenet_v2_x0_5": tv("shufflenet_v2_x0_5"),
    "mnasnet0_5": tv("mnasnet0_5"),
    "densenet121": tv("densenet121"),
    "regnet_y_400mf": tv("regnet_y_400mf"),
    "convnext_tiny": tv("convnext_tiny"),
    "googlenet": tv("googlenet", aux_logits=False, init_weights=True),
    "swin_t": tv("swin_t", spatial=False),
    "mobilenet_v2": tv("mobilenet_v2"),
    "resnext50_32x4d": tv("resnext50_32x4d"),
    "vgg11_bn": tv("vgg11_bn"),
    "alexnet": tv("alexnet"),
    "deeplabv3_mobilenet_v3_large": tv("deeplabv3_mobilenet_v3_large", seg=True, aux_loss=False),
    "lraspp_mobilenet_v3_large": tv("lraspp_mobilenet_v3_large", seg=True),
    "fcn_resnet50": tv("fcn_resnet50", seg=True, aux_loss=False),
    # Detectors (issue 15's detector with NonMaxSuppression in the graph): If, TopK,
    # NonZero, NonMaxSuppression, RoiAlign, shapes computed from the kept boxes.
    "ssdlite320_mobilenet_v3_large": det("ssdlite320_mobilenet_v3_large", score_thresh=0.005),
    "fasterrcnn_mobilenet_v3_large_320_fpn": det("fasterrcnn_mobilenet_v3_large_320_fpn",
                                                 box_score_thresh=0.005),
    "retinanet_resnet50_fpn": det("retinanet_resnet50_fpn", min_size=320, max_size=320,
                                  score_thresh=0.02),
    "fcos_resnet50_fpn": det("fcos_resnet50_fpn", min_size=320, max_size=320,
                             score_thresh=0.02),
    "maskrcnn_resnet50_fpn": det("maskrcnn_resnet50_fpn", min_size=320, max_size=320,
                                 box_score_thresh=0.005),
    "keypointrcnn_resnet50_fpn": det("keypointrcnn_resnet50_fpn", min_size=320, max_size=320,
                                     box_score_thresh=0.005),
    "distilbert": hf("DistilBertModel", "DistilBertConfig",
                     dict(vocab_size=V, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                          max_position_embeddings=64), TOK(), ["last_hidden_state"]),
    "roberta": hf("RobertaModel", "RobertaConfig", dict(BERTCFG, max_position_embeddings=66),
                  TOK(), ["last_hidden_state", "pooler_output"]),
    "t5_encoder": hf("T5EncoderModel", "T5Config",
                     dict(vocab_size=V, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_heads=2),
                     TOK(), ["last_hidden_state"]),
    "whisper_encoder": hf("WhisperModel", "WhisperConfig",
                          dict(vocab_size=V, d_model=32, encoder_layers=2, decoder_layers=2,
                               encoder_attention_heads=2, decoder_attention_heads=2,
                               encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=16,
                               max_source_positions=32, max_target_positions=32, pad_token_id=1,
                               bos_token_id=2, eos_token_id=3, decoder_start_token_id=2),
                          [("input_features", np.float32, ["batch", 16, 64], {})],
                          ["last_hidden_state"], sub="get_encoder"),
    "llama": hf("LlamaModel", "LlamaConfig", LLMCFG, TOK(), ["last_hidden_state"]),
    "qwen2": hf("Qwen2Model", "Qwen2Config", LLMCFG, TOK(), ["last_hidden_state"]),
    "mistral": hf("MistralModel", "MistralConfig", dict(LLMCFG, head_dim=8), TOK(), ["last_hidden_state"]),
    "deit": hf("DeiTModel", "DeiTConfig",
               dict(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                    num_attention_heads=2, intermediate_size=64),
               img(32, 32, spatial=False), ["last_hidden_state", "pooler_output"]),
    "wav2vec2": hf("Wav2Vec2Model", "Wav2Vec2Config",
                   W2VCFG,
                   [("input_values", np.float32, ["batch", "samples"], {"samples": 1600})],
                   ["last_hidden_state", "extract_features"]),
    "clip": hf("CLIPModel", "CLIPConfig",
               dict(text_config=dict(vocab_size=V, hidden_size=32, intermediate_size=64,
                                     num_hidden_layers=2, num_attention_heads=2,
                                     max_position_embeddings=32, eos_token_id=2),
                    vision_config=dict(image_size=32, patch_size=8, hidden_size=32,
                                       intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2),
                    projection_dim=16),
               [("input_ids", np.int64, ["batch", "seq"], {"seq": 16}),
                ("pixel_values", np.float32, ["batch", 3, 32, 32], {}),
                ("attention_mask", np.int64, ["batch", "seq"], {"seq": 16})],
               ["logits_per_image", "text_embeds", "image_embeds"]),
    "swin_hf": hf("SwinModel", "SwinConfig",
                  dict(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1],
                       num_heads=[1, 2], window_size=4),
                  img(32, 32, spatial=False), ["last_hidden_state", "pooler_output"]),
    # Added by the third probe: classifiers with SE blocks, SiLU and hard-swish, a video
    # (Conv3d) model and optical flow.
    "efficientnet_b0": tv("efficientnet_b0"),
    "mobilenet_v3_small": tv("mobilenet_v3_small"),
    "r3d_18": video("r3d_18"),
    "raft_small": flow("raft_small"),
    # Decoders: partial rotary (GPT-NeoX, Phi), ALiBi (Bloom), learned offset positions
    # (OPT), multi-query parallel attention (Falcon), Gemma's scaled embeddings and
    # GeGLU, and BART as a whole encoder-decoder (decoder_input_ids of another length).
    "gpt_neox": hf("GPTNeoXModel", "GPTNeoXConfig",
                   dict(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, max_position_embeddings=64, use_cache=False),
                   TOK(), ["last_hidden_state"]),
    "bloom": hf("BloomModel", "BloomConfig",
                dict(vocab_size=V, hidden_size=32, n_layer=2, n_head=4, use_cache=False),
                TOK(), ["last_hidden_state"]),
    "opt": hf("OPTModel", "OPTConfig",
              dict(vocab_size=V, hidden_size=32, ffn_dim=64, num_hidden_layers=2,
                   num_attention_heads=4, max_position_embeddings=64, word_embed_proj_dim=32,
                   use_cache=False),
              TOK(), ["last_hidden_state"]),
    "falcon": hf("FalconModel", "FalconConfig",
                 dict(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      max_position_embeddings=64, use_cache=False),
                 TOK(), ["last_hidden_state"]),
    "phi": hf("PhiModel", "PhiConfig",
              dict(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                   num_attention_heads=4, max_position_embeddings=64, use_cache=False),
              TOK(), ["last_hidden_state"]),
    "gemma": hf("GemmaModel", "GemmaConfig", dict(LLMCFG, head_dim=8), TOK(), ["last_hidden_state"]),
    "bart": hf("BartModel", "BartConfig",
               dict(vocab_size=V, d_model=32, encoder_layers=2, decoder_layers=2,
                    encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                    decoder_ffn_dim=64, max_position_embeddings=64, use_cache=False),
               TOK() + [("decoder_input_ids", np.int64, ["batch", "dseq"], {"dseq": 8})],
               ["last_hidden_state", "encoder_last_hidden_state"]),
    # Encoders: factorized embeddings (Electra, ALBERT's shared layers), DeBERTa-v3's
    # disentangled relative attention (log buckets, gathers of position scores).
    "electra": hf("ElectraModel", "ElectraConfig", dict(BERTCFG, embedding_size=16),
                  TOK(), ["last_hidden_state"]),
    "albert": hf("AlbertModel", "AlbertConfig", dict(BERTCFG, embedding_size=16),
                 TOK(), ["last_hidden_state", "pooler_output"]),
    "deberta_v2": hf("DebertaV2Model", "DebertaV2Config",
                     dict(BERTCFG, relative_attention=True, pos_att_type=["p2c", "c2p"],
                          position_buckets=16, max_relative_positions=-1, share_att_key=True,
                          norm_rel_ebd="layer_norm", position_biased_input=False),
                     TOK(), ["last_hidden_state"]),
    # Vision transformers: Segformer (efficient attention, a decode head), MobileViT
    # (unfold into patches), DINOv2 (bicubic interpolation of the position table), BEiT
    # (relative position bias), and HuBERT (speech, as wav2vec2).
    "segformer": hf("SegformerForSemanticSegmentation", "SegformerConfig",
                    dict(num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1],
                         hidden_sizes=[16, 32], patch_sizes=[7, 3], strides=[4, 2],
                         num_attention_heads=[1, 2], mlp_ratios=[2, 2],
                         decoder_hidden_size=32, num_labels=4),
                    img(64, 64), ["logits"]),
    "mobilevit": hf("MobileViTModel", "MobileViTConfig",
                    dict(image_size=64, hidden_sizes=[16, 24, 32],
                         neck_hidden_sizes=[8, 8, 16, 16, 24, 32, 64], num_attention_heads=2),
                    img(64, 64, spatial=False), ["last_hidden_state", "pooler_output"]),
    "dinov2": hf("Dinov2Model", "Dinov2Config",
                 dict(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=2, mlp_ratio=2),
                 img(32, 32, spatial=False), ["last_hidden_state", "pooler_output"]),
    "beit": hf("BeitModel", "BeitConfig",
               dict(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                    num_attention_heads=2, intermediate_size=64, use_relative_position_bias=True),
               img(32, 32, spatial=False), ["last_hidden_state", "pooler_output"]),
    # Control flow and data-dependent shapes (issue 15).
    "lstm_bidir": custom(lambda: Recurrent("LSTM", num_layers=2, bidirectional=True), SEQ()),
    "gru_stack": custom(lambda: Recurrent("GRU", num_layers=2), SEQ()),
    "rnn_relu": custom(lambda: Recurrent("RNN", nonlinearity="relu", bidirectional=True), SEQ()),
    "masked_select": custom(Masked, ROWS(16, None)),
    "topk_half": custom(TopHalf, ROWS(16, None)),
    "unique": custom(Uniq, ROWS(16, None)),
    "batched_nms": custom(Nms, ROWS(40, 6)),
    "scripted_control": custom(Scripted, ROWS(6, 4)),
    "hubert": hf("HubertModel", "HubertConfig",
                 W2VCFG,
                 [("input_values", np.float32, ["batch", "samples"], {"samples": 1600})],
                 ["last_hidden_state"]),
}


def make_inputs(spec, seed, batch):
    rng = np.random.default_rng(seed)
    arrs = []
    for name, dt, shape, dims in spec:
        if name == "images" and batch > 1:  # a detector's second size: another image shape
            dims = DET_S1
        # "rows": a data-dependent model's dynamic leading dim, longer in the second set.
        shp = tuple(batch if d == "batch" else dims[d] + 7 * (batch - 1) if d == "rows" else
                    (dims[d] if isinstance(d, str) else d) for d in shape)
        if dt == np.int64 and name == "attention_mask":
            a = np.ones(shp, np.int64)
        elif dt == np.int64:
            a = rng.integers(0, V, shp).astype(np.int64)
        elif name == "images":
            # Pixels in [0, 1], as torchvision's detectors expect, in blocks of 24: on
            # white noise a random network's deep features (and so its scores) are
            # alike everywhere, and which of the tied boxes survive is float rounding.
            n_, c_, h_, w_ = shp
            blocks = rng.random((n_, c_, h_ // 24 + 1, w_ // 24 + 1))
            a = np.kron(blocks, np.ones((1, 1, 24, 24)))[:, :, :h_, :w_]
            a = (0.9 * a + 0.1 * rng.random(shp)).astype(np.float32)
        else:
            a = rng.standard_normal(shp).astype(np.float32)
        arrs.append(a)
    return arrs


def main():
    name, exp = sys.argv[1], sys.argv[2]
    build, spec, outs = MODELS[name]
    tag = f"{name}_{exp}" + os.environ.get("SUFFIX", "")
    if os.environ.get("STATIC"):
        spec = [(n, dt, [d if d in ("batch", "seq") or not isinstance(d, str) else dims[d] for d in shp], dims)
                for n, dt, shp, dims in spec]
    path = f"{OUT}/{tag}.onnx"
    torch.manual_seed(0)
    model = randomize(build())
    ins = make_inputs(spec, 1, int(os.environ.get("EXB", "1")))
    targs = tuple(torch.from_numpy(a) for a in ins)
    names = [s[0] for s in spec]
    with torch.no_grad():
        res = model(*targs)
    nouts = len(res) if isinstance(res, tuple) else 1
    outs = [f"out_{i}" for i in range(nouts)]
    t0 = time.time()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exp == "ts":
            dyn = {s[0]: {k: d for k, d in enumerate(s[2]) if isinstance(d, str)} for s in spec}
            torch.onnx.export(model, targs, path, dynamo=False, opset_version=17,
                              input_names=names, output_names=outs, dynamic_axes=dyn,
                              do_constant_folding=True)
        else:
            Dim = torch.export.Dim
            dims = {}
            dyn = []
            for s in spec:
                dd = {}
                for k, d in enumerate(s[2]):
                    if isinstance(d, str):
                        if d not in dims:
                            dims[d] = (Dim(d, min=1, max=1024) if d in ("batch", "seq") and not os.environ.get("DYNAUTO") else Dim.AUTO)
                        dd[k] = dims[d]
                dyn.append(dd)
            prog = torch.onnx.export(model, targs, dynamo=True, verbose=False, input_names=names,
                                     output_names=outs, dynamic_shapes=(tuple(dyn),) if isinstance(model, TupleOut) else tuple(dyn),
                                     external_data=False, opset_version=18)
            prog.save(path)
    print(f"export {tag}: {time.time()-t0:.1f}s")
    import onnx, onnxruntime as ort
    mo = onnx.load(path)
    onnx.checker.check_model(mo)
    ops = sorted({n.op_type for n in mo.graph.node})
    print("ops:", " ".join(ops))
    print("inputs:", [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in mo.graph.input])
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    gin = [i.name for i in sess.get_inputs()]
    for k, batch in ((0, 1), (1, 2)):
        arrs = make_inputs(spec, 10 + k, batch)
        feed = dict(zip(names, arrs))
        feed = {n: feed[n] for n in gin}  # exporter may drop unused inputs
        try:
            refs = sess.run(None, feed)
        except Exception as e:
            print(f"ort s{k} failed: {str(e).splitlines()[0][:300]}")
            continue
        for i, n in enumerate(gin):
            np.save(f"{OUT}/{tag}.s{k}.input_{i}.npy", feed[n])
        for i, r in enumerate(refs):
            np.save(f"{OUT}/{tag}.s{k}.ref_{i}.npy", r)
        if k == 0 or name in DETECTORS:
            with torch.no_grad():
                tr = model(*[torch.from_numpy(feed[n]) if n in feed else None for n in names])
            tr = tr if isinstance(tr, tuple) else (tr,)
            if name in DETECTORS:  # PyTorch's own detections: check.py's baseline
                for i, t in enumerate(tr):
                    np.save(f"{OUT}/{tag}.s{k}.torch_{i}.npy", t.numpy())
            else:
                d = max(float(np.abs(t.numpy() - r).max()) for t, r in zip(tr, refs))
                print(f"torch-vs-ort s0 maxdiff {d:.2e}")
    print("OK", tag)


if __name__ == "__main__":
    main()
