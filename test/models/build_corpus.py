#!/usr/bin/env python3
"""Build the real-model corpus: ONNX models with seeded inputs and onnxruntime references.

The models (list them with --list):
  * exports of standard architectures with seeded random weights (torch.manual_seed; no
    weights are downloaded), each through both torch.onnx exporters: TorchScript
    (dynamo=False, opset 17; names *_ts) and dynamo (dynamo=True, the opset it emits;
    names *_dynamo), with symbolic batch / sequence / image axes: a ResNet, a
    MobileNetV3, an EfficientNet, a ViT, a BERT-like encoder, a GPT-2-like decoder
    without cache, a YOLO-like detector and a U-Net-like segmenter (ConvTranspose and
    Resize). Every one is small (a few MB), with small inputs (64x64 images, ...);
  * int8 models made by onnxruntime.quantization: quantize_static in QDQ format (S8S8
    per-tensor and U8S8 per-channel) and quantize_dynamic;
  * .onnx files shipped inside PyPI wheels of permissively licensed packages (Apache-2.0
    or MIT, recorded per model), copied as they are.

Written to --out (default build/corpus/, never committed):
  NAME.onnx
  NAME.s<k>.input_<i>.npy   the graph's i-th input for size k (k = 0, 1: two sizes of
                            the symbolic dims; a model without symbolic dims has s0 only)
  NAME.s<k>.ref_<i>.npy     onnxruntime's i-th output for those inputs (CPU execution
                            provider, graph optimizations disabled, one thread)
  corpus.json               every model: name, file, source (package, version and path
                            in the package, or architecture and exporter), license,
                            symbolic dims and their sizes, inputs (name, dtype, shape),
                            outputs, op types, how outputs compare, a note; and the
                            versions of the tools that made it
Weights are seeded per architecture (the _ts and _dynamo exports of one architecture
have the same weights); inputs are seeded per model and size (numpy default_rng).

The builder needs its own venv (torch, transformers, onnxscript, onnxruntime 1.31 and
the wheels that ship models: test/models/requirements-corpus.txt). scripts/corpus.sh
creates it if missing and runs this script; by hand:
  python3 -m venv .venv-corpus
  .venv-corpus/bin/pip install -r test/models/requirements-corpus.txt
  .venv-corpus/bin/python test/models/build_corpus.py [--out build/corpus] [--filter RE]
Then test/models/check_corpus.py (with the main .venv) runs the corpus through dlc.
"""

import argparse
import collections
import datetime
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import warnings
import zlib

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "build", "corpus")
TS_OPSET = 17
CORPUS_FORMAT = 1

# Heavy imports happen in main(), after argument parsing, so --help and --list are quick.
torch = nn = F = onnx = ort = None


def seed_of(key):
    """A stable 32-bit seed for a string (Python's hash() is salted per process)."""
    return zlib.crc32(key.encode())


def version(dist):
    return importlib.metadata.version(dist)


# ----------------------------------------------------------------------------------------
# Input specifications. A shape entry is an int or the name of a symbolic dim.
# ----------------------------------------------------------------------------------------

class Input:
    def __init__(self, name, dtype, shape, gen, **params):
        self.name, self.dtype, self.shape, self.gen, self.params = name, dtype, shape, gen, params

    def concrete_shape(self, dims):
        return tuple(dims[d] if isinstance(d, str) else d for d in self.shape)

    def make(self, rng, dims):
        shape = self.concrete_shape(dims)
        p = self.params
        if self.gen == "normal":
            a = rng.standard_normal(shape) * p.get("std", 1.0)
        elif self.gen == "uniform":
            a = rng.uniform(p["low"], p["high"], shape)
        elif self.gen == "int":  # integers in [low, high)
            a = rng.integers(p["low"], p["high"], shape)
        elif self.gen == "mask":  # attention mask: 1s, the rows after the first padded
            a = np.ones(shape)
            for row in range(1, shape[0]):
                a[row, max(1, shape[1] - 3 * row):] = 0
        elif self.gen == "const":
            a = np.full(shape, p["value"])
        else:
            raise ValueError(self.gen)
        # np.ascontiguousarray would turn a scalar into shape [1].
        return np.array(a.astype(self.dtype), order="C")

    def describe(self):
        return {"name": self.name, "dtype": np.dtype(self.dtype).name, "shape": list(self.shape),
                "values": self.gen + (f" {self.params}" if self.params else "")}


# ----------------------------------------------------------------------------------------
# Torch models (small configurations of standard architectures).
# ----------------------------------------------------------------------------------------

def randomize(model):
    """Gives BatchNorm non-trivial running statistics and affine parameters, and
    parameters initialised to one constant (zero biases, unit LayerNorm weights,
    torchvision ViT's zero head) seeded noise, so that no layer is an identity or
    constant. Called after torch.manual_seed."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        for p in model.parameters():
            if p.is_floating_point() and p.numel() > 0 and bool((p == p.flatten()[0]).all()):
                p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


def small_resnet():
    """torchvision ResNet-18 topology (BasicBlock, [2, 2, 2, 2]) at a quarter of the
    width (16, 32, 64, 128 channels), 10 classes."""
    from torchvision.models.resnet import BasicBlock, ResNet
    m = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=10)
    widths = (16, 32, 64, 128)
    m.inplanes = widths[0]
    m.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(widths[0])
    m.layer1 = m._make_layer(BasicBlock, widths[0], 2)
    m.layer2 = m._make_layer(BasicBlock, widths[1], 2, stride=2)
    m.layer3 = m._make_layer(BasicBlock, widths[2], 2, stride=2)
    m.layer4 = m._make_layer(BasicBlock, widths[3], 2, stride=2)
    m.fc = nn.Linear(widths[3], 10)
    return m


def small_mobilenet():
    import torchvision
    return torchvision.models.mobilenet_v3_small(num_classes=10, width_mult=0.5)


def small_efficientnet():
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.5, depth_mult=0.5)
    return EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=last)


def small_vit():
    from torchvision.models import VisionTransformer
    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4,
                             hidden_dim=64, mlp_dim=128, num_classes=10)


def make_torch_classes():
    """Defines the nn.Module classes once torch is imported."""
    global ConvBnAct, Bottleneck, C2f, SPPF, TinyYolo, DoubleConv, TinyUNet, BertWrap, GptWrap
    global YoloNms, GreedyDecoder

    class ConvBnAct(nn.Sequential):
        def __init__(self, cin, cout, k=3, stride=1):
            super().__init__(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
                             nn.BatchNorm2d(cout), nn.SiLU())

    class Bottleneck(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.cv1, self.cv2 = ConvBnAct(c, c), ConvBnAct(c, c)

        def forward(self, x):
            return x + self.cv2(self.cv1(x))

    class C2f(nn.Module):
        """YOLOv8-style CSP block: split the channels, chain bottlenecks, concatenate."""
        def __init__(self, c, n=1):
            super().__init__()
            self.cv1 = ConvBnAct(c, c, 1)
            self.m = nn.ModuleList(Bottleneck(c // 2) for _ in range(n))
            self.cv2 = ConvBnAct(c // 2 * (2 + n), c, 1)

        def forward(self, x):
            y = list(self.cv1(x).chunk(2, 1))
            for m in self.m:
                y.append(m(y[-1]))
            return self.cv2(torch.cat(y, 1))

    class SPPF(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.cv1, self.cv2 = ConvBnAct(c, c // 2, 1), ConvBnAct(c // 2 * 4, c, 1)
            self.pool = nn.MaxPool2d(5, 1, 2)

        def forward(self, x):
            x = self.cv1(x)
            y1 = self.pool(x)
            y2 = self.pool(y1)
            return self.cv2(torch.cat((x, y1, y2, self.pool(y2)), 1))

    class TinyYolo(nn.Module):
        """YOLO-like detector: CSP backbone with SPPF, nearest upsampling + concat neck,
        two heads (strides 8, 16) decoded in the graph: xy from a grid built with
        arange over the feature map's size, wh = exp(.) * stride, sigmoid scores.
        Output [batch, boxes, 4 + 1 + classes]; height and width multiples of 32."""
        def __init__(self, nc=4):
            super().__init__()
            self.stem = ConvBnAct(3, 16, 3, 2)
            self.s2 = nn.Sequential(ConvBnAct(16, 32, 3, 2), C2f(32))
            self.s3 = nn.Sequential(ConvBnAct(32, 64, 3, 2), C2f(64))
            self.s4 = nn.Sequential(ConvBnAct(64, 128, 3, 2), C2f(128), SPPF(128))
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.fuse = nn.Sequential(ConvBnAct(192, 64, 1), C2f(64))
            self.head3, self.head4 = nn.Conv2d(64, 5 + nc, 1), nn.Conv2d(128, 5 + nc, 1)

        @staticmethod
        def decode(p, stride):
            b, c, h, w = p.shape
            p = p.flatten(2).transpose(1, 2)
            gy, gx = torch.meshgrid(torch.arange(h, dtype=p.dtype),
                                    torch.arange(w, dtype=p.dtype), indexing="ij")
            grid = torch.stack((gx, gy), -1).reshape(1, h * w, 2)
            xy = (p[..., :2].sigmoid() * 2 - 0.5 + grid) * stride
            wh = torch.exp(p[..., 2:4].clamp(max=6.0)) * stride
            return torch.cat((xy, wh, p[..., 4:].sigmoid()), -1)

        def forward(self, x):
            p3 = self.s3(self.s2(self.stem(x)))
            p4 = self.s4(p3)
            f3 = self.fuse(torch.cat((self.up(p4), p3), 1))
            return torch.cat((self.decode(self.head3(f3), 8), self.decode(self.head4(p4), 16)), 1)

    class YoloNms(nn.Module):
        """TinyYolo with its post-processing in the graph, as exported detectors ship:
        boxes to corners, a score per box, torchvision NMS
        (ONNX NonMaxSuppression) at IoU 0.2; outputs the kept boxes and scores, whose
        count depends on the data. One image (batch 1)."""
        def __init__(self):
            super().__init__()
            import torchvision.ops
            self.det = TinyYolo()
            self.nms = torchvision.ops.nms

        def forward(self, x):
            p = self.det(x)[0]
            xy, wh = p[:, :2], p[:, 2:4]
            boxes = torch.cat((xy - wh / 2, xy + wh / 2), 1)
            # With random weights every box has nearly the same objectness, and NMS would
            # rank boxes by float noise. The scores are the image's mean brightness over
            # each box's cell instead (strides 8 and 16, the heads' order), stretched.
            cells = torch.cat((F.avg_pool2d(x[:, :1], 8).flatten(1),
                               F.avg_pool2d(x[:, :1], 16).flatten(1)), 1)[0]
            scores = torch.sigmoid(20 * (cells - 0.5))
            keep = self.nms(boxes, scores, 0.2)
            return boxes[keep], scores[keep]

    class GreedyDecoder(nn.Module):
        """A GRU-cell decoder run greedily in a scripted loop (ONNX Loop) whose trip count
        is computed from the state's width (hidden // 8 = 4 steps): each step embeds the
        previous token, updates the state, and picks the argmax of the vocabulary
        projection; the tokens are concatenated (a loop-carried value that grows)."""
        def __init__(self, vocab: int = 32, hidden: int = 32):
            super().__init__()
            self.embed = nn.Embedding(vocab, hidden)
            # A GRU cell written out (the exporter cannot script nn.GRUCell).
            self.ih, self.hh = nn.Linear(hidden, 3 * hidden), nn.Linear(hidden, 3 * hidden)
            self.out = nn.Linear(hidden, vocab)
            self.hidden = hidden

        def forward(self, h):
            tok = (h[:, 0] * 0).long()
            tokens = tok.unsqueeze(1)[:, :0]
            for _ in range(h.shape[1] // 8):
                gi, gh = self.ih(self.embed(tok)), self.hh(h)
                n = self.hidden
                r = torch.sigmoid(gi[:, :n] + gh[:, :n])
                z = torch.sigmoid(gi[:, n:2 * n] + gh[:, n:2 * n])
                c = torch.tanh(gi[:, 2 * n:] + r * gh[:, 2 * n:])
                h = (1 - z) * c + z * h
                tok = self.out(h).argmax(-1)
                tokens = torch.cat([tokens, tok.unsqueeze(1)], 1)
            return tokens, h

    class DoubleConv(nn.Sequential):
        def __init__(self, cin, cout):
            super().__init__(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU())

    class TinyUNet(nn.Module):
        """U-Net-like segmenter, 3 levels: max-pool encoder; the decoder upsamples once
        with ConvTranspose (stride 2) and once with bilinear Resize to the skip's size
        (size taken from the tensor, as U-Nets for odd sizes do); skip concatenations;
        3 classes per pixel. Height and width multiples of 4."""
        def __init__(self):
            super().__init__()
            self.enc1, self.enc2, self.enc3 = DoubleConv(3, 16), DoubleConv(16, 32), DoubleConv(32, 64)
            self.pool = nn.MaxPool2d(2)
            self.up2 = nn.ConvTranspose2d(64, 32, 2, stride=2)
            self.dec2 = DoubleConv(64, 32)
            self.reduce = nn.Conv2d(32, 16, 1)
            self.dec1 = DoubleConv(32, 16)
            self.out = nn.Conv2d(16, 3, 1)

        def forward(self, x):
            e1 = self.enc1(x)
            e2 = self.enc2(self.pool(e1))
            e3 = self.enc3(self.pool(e2))
            d2 = self.dec2(torch.cat((self.up2(e3), e2), 1))
            d1 = F.interpolate(self.reduce(d2), size=e1.shape[-2:], mode="bilinear",
                               align_corners=False)
            return self.out(self.dec1(torch.cat((d1, e1), 1)))

    class BertWrap(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            o = self.m(input_ids=input_ids, attention_mask=attention_mask,
                       token_type_ids=token_type_ids)
            return o.last_hidden_state, o.pooler_output

    class GptWrap(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            # attention_mask given: without it transformers 5 looks for packed sequences
            # with torch.diff, which the TorchScript exporter cannot export.
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          use_cache=False).logits


def tiny_bert():
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=128, type_vocab_size=2)
    return BertWrap(BertModel(cfg, add_pooling_layer=True))


def resnet50():
    """torchvision ResNet-50 (Bottleneck, [3, 4, 6, 3]), 1000 classes: the GPU
    benchmark's full-size CNN."""
    import torchvision
    return torchvision.models.resnet50(num_classes=1000)


def bert_base():
    """transformers BertModel at BERT-base's size (BertConfig's defaults: 12 layers,
    hidden 768, 12 heads, intermediate 3072, vocabulary 30522): the GPU benchmark's
    full-size encoder."""
    from transformers import BertConfig, BertModel
    return BertWrap(BertModel(BertConfig(), add_pooling_layer=True))


def tiny_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel
    cfg = GPT2Config(vocab_size=1000, n_embd=64, n_layer=2, n_head=2, n_positions=128,
                     use_cache=False, bos_token_id=0, eos_token_id=0)
    return GptWrap(GPT2LMHeadModel(cfg))


TV = "torchvision (BSD-3-Clause)"
HF = "transformers (Apache-2.0)"
# name -> architecture description, constructor, inputs, outputs, symbolic dims, license
# of the architecture's code (the weights are random and generated here).
IMAGE = lambda size: [Input("images", np.float32, ["batch", 3, size, size], "normal")]
ARCHS = {
    "resnet": dict(
        arch="torchvision.models.resnet.ResNet(BasicBlock, [2, 2, 2, 2]) (ResNet-18 topology) "
             "with widths 16/32/64/128, 10 classes, 64x64 input", make=small_resnet,
        code=TV, inputs=IMAGE(64), outputs=["logits"], dims={"batch": [1, 3]}),
    "mobilenet_v3": dict(
        arch="torchvision.models.mobilenet_v3_small(width_mult=0.5, num_classes=10), "
             "64x64 input", make=small_mobilenet,
        code=TV, inputs=IMAGE(64), outputs=["logits"], dims={"batch": [1, 3]}),
    "efficientnet": dict(
        arch="torchvision EfficientNet-B0 configuration with width_mult 0.5, depth_mult 0.5 "
             "(_efficientnet_conf), 10 classes, 64x64 input", make=small_efficientnet,
        code=TV, inputs=IMAGE(64), outputs=["logits"], dims={"batch": [1, 3]}),
    "vit": dict(
        arch="torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, "
             "num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10)", make=small_vit,
        code=TV, inputs=IMAGE(32), outputs=["logits"], dims={"batch": [1, 3]}),
    "bert": dict(
        arch="transformers BertModel(BertConfig(vocab_size=1000, hidden_size=64, "
             "num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)), "
             "default (sdpa) attention", make=tiny_bert, code=HF,
        inputs=[Input("input_ids", np.int64, ["batch", "seq"], "int", low=0, high=1000),
                Input("attention_mask", np.int64, ["batch", "seq"], "mask"),
                Input("token_type_ids", np.int64, ["batch", "seq"], "int", low=0, high=2)],
        outputs=["last_hidden_state", "pooler_output"], dims={"batch": [1, 3], "seq": [8, 17]}),
    "gpt2": dict(
        arch="transformers GPT2LMHeadModel(GPT2Config(vocab_size=1000, n_embd=64, n_layer=2, "
             "n_head=2, n_positions=128)), use_cache=False, default (sdpa) attention",
        make=tiny_gpt2, code=HF,
        inputs=[Input("input_ids", np.int64, ["batch", "seq"], "int", low=0, high=1000),
                Input("attention_mask", np.int64, ["batch", "seq"], "mask")],
        outputs=["logits"], dims={"batch": [1, 3], "seq": [8, 17]}),
    "yolo": dict(
        arch="YOLO-like detector defined here (CSP/C2f backbone of Conv-BN-SiLU, SPPF, "
             "nearest Upsample + Concat neck, 2 heads decoded in-graph with arange grids), "
             "4 classes", make=lambda: TinyYolo(), code="this repository",
        inputs=[Input("images", np.float32, ["batch", 3, "height", "width"], "uniform",
                      low=0.0, high=1.0)],
        outputs=["detections"], dims={"batch": [1, 2], "height": [64, 96], "width": [64, 128]}),
    "yolo_nms": dict(
        arch="the YOLO-like detector above with corner boxes, scores from the image's mean "
             "over each box's cell (random weights give near-equal objectness) and "
             "torchvision.ops.nms (ONNX NonMaxSuppression, IoU 0.2) in the graph; one image",
        make=lambda: YoloNms(), code="this repository (NMS: torchvision, BSD-3-Clause)",
        inputs=[Input("images", np.float32, [1, 3, "height", "width"], "uniform",
                      low=0.0, high=1.0)],
        outputs=["boxes", "scores"], dims={"height": [64, 96], "width": [64, 128]},
        exporters=("ts",)),
    "greedy_decoder": dict(
        arch="GRU-cell greedy decoder defined here (Embedding 32x32, a GRU cell of 32, "
             "Linear(32, 32)), 4 steps (state width // 8) in a torch.jit.script loop (ONNX Loop)",
        make=lambda: torch.jit.script(GreedyDecoder()), code="this repository",
        inputs=[Input("h", np.float32, ["batch", 32], "normal")],
        outputs=["tokens", "state"], dims={"batch": [1, 3]}, exporters=("ts",)),
    # Full-size architectures for the GPU benchmark only (test/gpu/prepare_bench.py:
    # exported with --bench-export, compiled with synthetic weights): not in the corpus.
    "resnet50": dict(
        arch="torchvision.models.resnet50(num_classes=1000), 224x224 input", make=resnet50,
        code=TV, inputs=IMAGE(224), outputs=["logits"], dims={"batch": [1, 2]}, exporters=()),
    "bert_base": dict(
        arch="transformers BertModel(BertConfig()) (BERT-base: 12 layers, hidden 768, 12 "
             "heads, intermediate 3072, vocabulary 30522), default (sdpa) attention",
        make=bert_base, code=HF,
        inputs=[Input("input_ids", np.int64, ["batch", "seq"], "int", low=0, high=30522),
                Input("attention_mask", np.int64, ["batch", "seq"], "mask"),
                Input("token_type_ids", np.int64, ["batch", "seq"], "int", low=0, high=2)],
        outputs=["last_hidden_state", "pooler_output"], dims={"batch": [1, 3], "seq": [8, 17]},
        exporters=()),
    "unet": dict(
        arch="U-Net-like segmenter defined here (3 levels, Conv-BN-ReLU, MaxPool, "
             "ConvTranspose stride 2, bilinear Resize to the skip's size, skip Concat), "
             "3 classes", make=lambda: TinyUNet(), code="this repository",
        inputs=[Input("images", np.float32, ["batch", 3, "height", "width"], "normal")],
        outputs=["masks"], dims={"batch": [1, 2], "height": [64, 48], "width": [64, 80]}),
}


def torch_model(arch):
    """The architecture's module with weights seeded by its name (same for both exporters)."""
    torch.manual_seed(seed_of(arch))
    return randomize(ARCHS[arch]["make"]())


def example_args(arch, size_index=1):
    """Seeded example inputs at the given size (tracing uses the larger, second size so
    that torch.export does not specialise a dim to 1)."""
    a = ARCHS[arch]
    dims = {d: v[size_index] for d, v in a["dims"].items()}
    rng = np.random.default_rng(seed_of("trace:" + arch))
    return tuple(torch.from_numpy(i.make(rng, dims)) for i in a["inputs"])


def export_torchscript(arch, path):
    a = ARCHS[arch]
    names = [i.name for i in a["inputs"]]
    dynamic_axes = {i.name: {k: d for k, d in enumerate(i.shape) if isinstance(d, str)}
                    for i in a["inputs"]}
    model = torch_model(arch)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example_args(arch), path, dynamo=False, opset_version=TS_OPSET,
                          input_names=names, output_names=a["outputs"],
                          dynamic_axes=dynamic_axes, do_constant_folding=True)
    return f"torch.onnx.export(dynamo=False) (TorchScript exporter), opset {TS_OPSET}"


def dynamo_dims(arch):
    """torch.export Dims for the symbolic dims. Image sizes of the detector and the
    segmenter are multiples of 32 and 4: their Dims are derived (32 * _h)."""
    Dim = torch.export.Dim
    mult = {"yolo": 32, "unet": 4}.get(arch)
    dims = {}
    for d in ARCHS[arch]["dims"]:
        if d in ("height", "width") and mult:
            dims[d] = mult * Dim("_" + d, min=1, max=2048 // mult)
        else:
            dims[d] = Dim(d, min=1, max=1024)
    return dims


def export_dynamo(arch, path):
    a = ARCHS[arch]
    dims = dynamo_dims(arch)
    dynamic_shapes = tuple({k: dims[d] for k, d in enumerate(i.shape) if isinstance(d, str)}
                           for i in a["inputs"])
    model = torch_model(arch)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, example_args(arch), dynamo=True, verbose=False,
                                    input_names=[i.name for i in a["inputs"]],
                                    output_names=a["outputs"], dynamic_shapes=dynamic_shapes,
                                    external_data=False)
        program.save(path)
    # The exporter records each node's Python stack trace, with the venv's absolute
    # paths: dropped, so that the file does not depend on where the venv lives.
    model = onnx.load(path)
    for node in all_nodes(model.graph):
        keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.save(model, path)
    return ("torch.onnx.export(dynamo=True) (torch.export-based exporter, onnxscript "
            f"{version('onnxscript')}), its default opset")


# ----------------------------------------------------------------------------------------
# Model builders. Each writes `path` and returns the corpus entry's fields.
# ----------------------------------------------------------------------------------------

def exported(arch, exporter):
    def build(path, name):
        a = ARCHS[arch]
        how = (export_torchscript if exporter == "ts" else export_dynamo)(arch, path)
        return dict(
            source={"kind": "export", "architecture": a["arch"], "exporter": how,
                    "torch": torch.__version__, "weights": f"random, torch.manual_seed({seed_of(arch)})"
                    + (f", transformers {version('transformers')}" if a["code"] == HF else "")
                    + (f", torchvision {version('torchvision')}" if a["code"] == TV else "")},
            license=f"generated here (random weights); architecture code: {a['code']}",
            inputs=a["inputs"], dims=a["dims"], compare="float", torch_arch=arch,
            note=f"{arch} exported with the {'TorchScript' if exporter == 'ts' else 'dynamo'} "
                 "exporter; symbolic " + ", ".join(a["dims"]))
    return build


def calibration_feeds(arch, count=8):
    """Calibration data for quantize_static: seeded inputs at the first size."""
    a = ARCHS[arch]
    dims = {d: v[0] for d, v in a["dims"].items()}
    rng = np.random.default_rng(seed_of("calibrate:" + arch))
    return [{i.name: i.make(rng, dims) for i in a["inputs"]} for _ in range(count)]


def quantized_static(arch, activation, per_channel):
    def build(path, name):
        from onnxruntime import quantization as q

        class Reader(q.CalibrationDataReader):
            def __init__(self):
                self.feeds = iter(calibration_feeds(arch))

            def get_next(self):
                return next(self.feeds, None)

        with tempfile.TemporaryDirectory() as tmp:
            fp32 = os.path.join(tmp, "fp32.onnx")
            export_torchscript(arch, fp32)
            act = getattr(q.QuantType, activation)
            q.quantize_static(fp32, path, Reader(), quant_format=q.QuantFormat.QDQ,
                              per_channel=per_channel, activation_type=act,
                              weight_type=q.QuantType.QInt8,
                              calibrate_method=q.CalibrationMethod.MinMax)
        a = ARCHS[arch]
        scheme = (f"activations {activation}, weights QInt8, "
                  f"{'per-channel' if per_channel else 'per-tensor'}")
        return dict(
            source={"kind": "export+quantize", "architecture": a["arch"],
                    "exporter": f"torch.onnx.export(dynamo=False), opset {TS_OPSET}, then "
                                "onnxruntime.quantization.quantize_static(quant_format=QDQ, "
                                f"{scheme}, MinMax calibration on 8 seeded inputs)",
                    "torch": torch.__version__, "onnxruntime": ort.__version__},
            license=f"generated here (random weights); architecture code: {a['code']}",
            inputs=a["inputs"], dims=a["dims"], compare="quantized",
            note=f"int8 QDQ {arch}: QuantizeLinear/DequantizeLinear pairs, {scheme}")
    return build


def quantized_dynamic(arch):
    def build(path, name):
        from onnxruntime import quantization as q
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = os.path.join(tmp, "fp32.onnx")
            export_torchscript(arch, fp32)
            q.quantize_dynamic(fp32, path, weight_type=q.QuantType.QInt8)
        a = ARCHS[arch]
        return dict(
            source={"kind": "export+quantize", "architecture": a["arch"],
                    "exporter": f"torch.onnx.export(dynamo=False), opset {TS_OPSET}, then "
                                "onnxruntime.quantization.quantize_dynamic(weight_type=QInt8)",
                    "torch": torch.__version__, "onnxruntime": ort.__version__},
            license=f"generated here (random weights); architecture code: {a['code']}",
            inputs=a["inputs"], dims=a["dims"], compare="quantized",
            note=f"dynamically quantized {arch}: DynamicQuantizeLinear + MatMulInteger, "
                 "int8 weights")
    return build


def package_license(dist):
    meta = importlib.metadata.metadata(dist)
    lic = meta.get("License-Expression") or ""
    if not lic:
        classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                       if c.startswith("License ::")]
        lic = "; ".join(classifiers) or (meta.get("License") or "").splitlines()[0]
    return lic


def shipped(dist, package, relpath, inputs, dims, note, compare="float", license_note=""):
    """A model file inside an installed wheel, located without importing the package."""
    def build(path, name):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"package {package} not installed (pip install {dist})")
        src = os.path.join(list(spec.submodule_search_locations)[0], relpath)
        shutil.copyfile(src, path)
        lic = package_license(dist)
        return dict(
            source={"kind": "pypi", "package": dist, "version": version(dist),
                    "path": f"{package}/{relpath}"},
            license=lic + license_note, inputs=inputs, dims=dims, compare=compare, note=note)
    return build


def models():
    """name -> builder(path, name) returning the entry's fields."""
    entries = {}
    for arch in ARCHS:
        for exporter in ARCHS[arch].get("exporters", ("ts", "dynamo")):
            entries[f"{arch}_{exporter}"] = exported(arch, exporter)
    entries["resnet_int8_qdq"] = quantized_static("resnet", "QInt8", per_channel=False)
    entries["mobilenet_v3_int8_qdq_u8"] = quantized_static("mobilenet_v3", "QUInt8",
                                                           per_channel=True)
    entries["bert_int8_dynamic"] = quantized_dynamic("bert")

    d = "DynamicDimension."
    paddle = " (model weights: PaddleOCR, Apache-2.0, per the wheel's MODEL_LICENSES.md)"
    entries["ppocr_v6_det"] = shipped(
        "rapidocr", "rapidocr", "models/PP-OCRv6_det_small.onnx",
        [Input("x", np.float32, [d + "0", 3, d + "1", d + "2"], "uniform", low=-1.0, high=1.0)],
        {d + "0": [1, 2], d + "1": [64, 96], d + "2": [64, 128]},
        "PP-OCRv6 small text detector (DB head: ConvTranspose, Resize), Paddle2ONNX opset 11",
        license_note=paddle)
    entries["ppocr_v6_rec"] = shipped(
        "rapidocr", "rapidocr", "models/PP-OCRv6_rec_small.onnx",
        [Input("x", np.float32, [d + "0", 3, 48, d + "1"], "uniform", low=-1.0, high=1.0)],
        {d + "0": [1, 2], d + "1": [64, 160]},
        "PP-OCRv6 small text recognizer (conv + transformer-like mixer, 18710 classes), "
        "Paddle2ONNX opset 11", license_note=paddle)
    entries["ppocr_mobile_v2_cls"] = shipped(
        "rapidocr", "rapidocr", "models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        [Input("x", np.float32, ["batch", 3, 48, 192], "uniform", low=-1.0, high=1.0)],
        {"batch": [1, 3]},
        "PP-OCR mobile v2.0 text-angle classifier, opset 11; its input is [-1, 3, '?', '?'] "
        "(both spatial dims named '?'; fed 48x192 as RapidOCR does)", license_note=paddle)
    entries["magika_standard_v3_3"] = shipped(
        "magika", "magika", "models/standard_v3_3/model.onnx",
        [Input("bytes", np.int32, ["unk__214", 2048], "int", low=0, high=257)],
        {"unk__214": [1, 3]},
        "Magika file-type classifier (Google): int32 byte ids 0..256 (256 = padding), "
        "214 content types; opset 15 (imports ai.onnx.ml, uses none of it)")
    vad_inputs = lambda order: [
        {"input": Input("input", np.float32, ["batch", "sequence"], "uniform", low=-0.5, high=0.5),
         "state": Input("state", np.float32, [2, "batch", 128], "normal", std=0.3),
         "sr": Input("sr", np.int64, [], "const", value=16000)}[k] for k in order]
    entries["silero_vad_op18_ifless"] = shipped(
        "silero-vad", "silero_vad", "data/silero_vad_op18_ifless.onnx",
        vad_inputs(["input", "sr", "state"]), {"batch": [1, 2], "sequence": [576, 512]},
        "Silero VAD v6 (STFT as Conv, encoder convs, LSTM cell as MatMuls), opset 18; a "
        "top-level If on sr selects the 16 kHz or 8 kHz branch; sr = 16000")
    entries["silero_vad_16k_op15"] = shipped(
        "silero-vad", "silero_vad", "data/silero_vad_16k_op15.onnx",
        vad_inputs(["input", "state", "sr"]), {"batch": [1, 2], "sequence": [576, 512]},
        "Silero VAD 16 kHz, opset 15, with If nodes on shapes; sr = 16000")
    ocr_note = ("; its output is declared [1, seqlen] but is [seqlen, 1, 8210] "
                "(onnxruntime warns)")
    entries["ddddocr_ocr"] = shipped(
        "ddddocr", "ddddocr", "common.onnx",
        [Input("input1", np.float32, [1, 1, 64, "image_width"], "uniform", low=-1.0, high=1.0)],
        {"image_width": [64, 128]},
        "ddddocr captcha OCR (conv backbone + LSTM + Gemm), opset 12" + ocr_note)
    entries["ddddocr_ocr_old_int8"] = shipped(
        "ddddocr", "ddddocr", "common_old.onnx",
        [Input("input1", np.float32, [1, 1, 64, "image_width"], "uniform", low=-1.0, high=1.0)],
        {"image_width": [64, 128]},
        "ddddocr's older OCR, dynamically quantized by onnxruntime: ConvInteger, "
        "DynamicQuantizeLinear, com.microsoft DynamicQuantizeLSTM, MatMulInteger" + ocr_note,
        compare="quantized")
    entries["ddddocr_det"] = shipped(
        "ddddocr", "ddddocr", "common_det.onnx",
        [Input("images", np.float32, [1, 3, 416, 416], "uniform", low=0.0, high=255.0)],
        {}, "ddddocr YOLOX-like detector (Focus slices, SiLU, SPP MaxPools, nearest Resize), "
        "static 1x3x416x416, opset 11; one size only")
    return entries


# ----------------------------------------------------------------------------------------
# References and metadata.
# ----------------------------------------------------------------------------------------

def reference_session(path):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def all_nodes(graph):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            for g in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from all_nodes(g)


def value_info(v):
    t = v.type.tensor_type
    dims = [d.dim_param or (d.dim_value if d.HasField("dim_value") else "?") for d in t.shape.dim]
    return {"name": v.name, "dtype": onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name
            if t.elem_type else "?", "shape": dims if t.HasField("shape") else None}


def quant_atol(model, refs_by_size):
    """±1 int8 step per output: the scale of the DequantizeLinear that produces it (its
    largest, if per-channel), else 1/255 of the references' range."""
    producers = {o: n for n in model.graph.node for o in n.output}
    inits = {i.name: i for i in model.graph.initializer}
    atol = []
    for i, out in enumerate(model.graph.output):
        node = producers.get(out.name)
        if node is not None and node.op_type == "DequantizeLinear" and node.input[1] in inits:
            scale = onnx.numpy_helper.to_array(inits[node.input[1]])
            atol.append({"atol": float(np.max(scale)), "from": "DequantizeLinear scale"})
            continue
        vals = [r[i] for r in refs_by_size]
        lo = min(float(np.min(v)) for v in vals)
        hi = max(float(np.max(v)) for v in vals)
        atol.append({"atol": (hi - lo) / 255.0, "from": "reference range / 255"})
    return atol


def build_one(name, builder, out_dir):
    path = os.path.join(out_dir, f"{name}.onnx")
    for stale in os.listdir(out_dir):
        if stale.startswith(f"{name}.s") and stale.endswith(".npy"):
            os.remove(os.path.join(out_dir, stale))
    fields = builder(path, name)
    onnx.checker.check_model(path)
    model = onnx.load(path)
    inits = {i.name for i in model.graph.initializer}
    graph_inputs = [v for v in model.graph.input if v.name not in inits]
    specs = {i.name: i for i in fields["inputs"]}
    if [v.name for v in graph_inputs] != [i.name for i in fields["inputs"]]:
        raise RuntimeError(f"graph inputs {[v.name for v in graph_inputs]} differ from the "
                           f"builder's {[i.name for i in fields['inputs']]}")
    dims = fields["dims"]
    n_sizes = 2 if dims else 1
    sess = reference_session(path)
    sizes, refs_by_size = [], []
    for k in range(n_sizes):
        concrete = {d: v[k] for d, v in dims.items()}
        rng = np.random.default_rng([seed_of(name), k])
        feeds = {v.name: specs[v.name].make(rng, concrete) for v in graph_inputs}
        outs = sess.run(None, feeds)
        files_in, files_ref = [], []
        for i, v in enumerate(graph_inputs):
            f = f"{name}.s{k}.input_{i}.npy"
            np.save(os.path.join(out_dir, f), feeds[v.name])
            files_in.append(f)
        for i, o in enumerate(outs):
            f = f"{name}.s{k}.ref_{i}.npy"
            np.save(os.path.join(out_dir, f), o)
            files_ref.append(f)
        refs_by_size.append(outs)
        sizes.append({"tag": f"s{k}", "dims": concrete, "inputs": files_in, "refs": files_ref,
                      "input_shapes": [list(feeds[v.name].shape) for v in graph_inputs],
                      "output_shapes": [list(o.shape) for o in outs],
                      "output_dtypes": [o.dtype.name for o in outs]})
    ops = collections.Counter(f"{n.domain}::{n.op_type}" if n.domain not in ("", "ai.onnx")
                              else n.op_type for n in all_nodes(model.graph))
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    entry = {
        "name": name, "file": f"{name}.onnx", "size_bytes": os.path.getsize(path), "sha256": sha,
        "source": fields["source"], "license": fields["license"], "note": fields["note"],
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "ir_version": model.ir_version,
        "symbolic_dims": dims,
        "inputs": [dict(specs[v.name].describe(), model_shape=value_info(v)["shape"])
                   for v in graph_inputs],
        "outputs": [value_info(v) for v in model.graph.output],
        "op_types": dict(sorted(ops.items())), "node_count": sum(ops.values()),
        "compare": {"kind": fields["compare"]}, "sizes": sizes,
    }
    if fields["compare"] == "quantized":
        entry["compare"]["outputs"] = quant_atol(model, refs_by_size)
    if fields.get("torch_arch"):
        entry["export_check"] = export_check(fields["torch_arch"], graph_inputs, out_dir, sizes,
                                             refs_by_size)
    return entry


def export_check(arch, graph_inputs, out_dir, sizes, refs_by_size):
    """How far onnxruntime's outputs of the export are from the torch module's own on
    the same inputs: a check of the exporter, not of dlc."""
    model = torch_model(arch)
    worst = 0.0
    for size, refs in zip(sizes, refs_by_size):
        args = [torch.from_numpy(np.load(os.path.join(out_dir, f))) for f in size["inputs"]]
        with torch.no_grad():
            outs = model(*args)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for o, r in zip(outs, refs):
            scale = max(1.0, float(np.max(np.abs(r))))
            worst = max(worst, float(np.max(np.abs(o.numpy() - r))) / scale)
    return {"torch_vs_onnxruntime": worst,
            "metric": "max|torch - onnxruntime| / max(1, max|onnxruntime|) over both sizes"}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--filter", default="", help="regex: build only the models whose "
                        "name it matches (others already in corpus.json are kept)")
    parser.add_argument("--list", action="store_true", help="list the model names and exit")
    parser.add_argument("--traceback", action="store_true",
                        help="print the full traceback of a model that fails to build")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch CPU threads for the exports (default: %(default)s)")
    parser.add_argument("--bench-export", nargs=2, metavar=("ARCH", "PATH"),
                        help="only export architecture ARCH (e.g. the GPU benchmark's "
                             "resnet50, bert_base) with the TorchScript exporter to PATH")
    args = parser.parse_args()
    entries = models()
    if args.list:
        print("\n".join(entries))
        return 0

    global torch, nn, F, onnx, ort
    import torch as torch_
    torch = torch_
    nn, F = torch.nn, torch.nn.functional
    import onnx as onnx_
    import onnx.numpy_helper  # noqa: F401
    import onnxruntime as ort_
    onnx, ort = onnx_, ort_
    make_torch_classes()
    torch.set_num_threads(args.threads)
    # nn.MultiheadAttention's fused fast path (taken in eval mode without grad) is
    # aten::_native_multi_head_attention, which the TorchScript exporter cannot export.
    torch.backends.mha.set_fastpath_enabled(False)
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("transformers").setLevel(logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)  # quantize_*'s "consider pre-processing"

    if args.bench_export:
        arch, path = args.bench_export
        if arch not in ARCHS:
            parser.error(f"--bench-export: unknown architecture {arch!r} "
                         f"(one of {', '.join(ARCHS)})")
        start = time.monotonic()
        print(f"{arch}: {export_torchscript(arch, path)}, {os.path.getsize(path) >> 20} MiB, "
              f"{time.monotonic() - start:.0f} s")
        return 0

    pattern = re.compile(args.filter)
    selected = [n for n in entries if pattern.search(n)]
    if not selected:
        parser.error("no model matches --filter")
    os.makedirs(args.out, exist_ok=True)
    index_path = os.path.join(args.out, "corpus.json")
    previous = {}
    if os.path.exists(index_path) and args.filter:
        with open(index_path) as f:
            previous = {m["name"]: m for m in json.load(f).get("models", [])}

    built, failed = {}, []
    start = time.monotonic()
    for k, name in enumerate(selected, start=1):
        t0 = time.monotonic()
        print(f"[{k}/{len(selected)}] {name} ...", flush=True)
        try:
            entry = build_one(name, entries[name], args.out)
        except Exception as e:  # report and go on with the others
            failed.append(name)
            lines = str(e).strip().splitlines()
            print(f"    FAILED: {type(e).__name__}: {lines[0][:300] if lines else ''}")
            if args.traceback:
                traceback.print_exc()
            continue
        entry["build_seconds"] = round(time.monotonic() - t0, 2)
        built[name] = entry
        dims = ", ".join(f"{d}={v[0]}/{v[1]}" for d, v in entry["symbolic_dims"].items()) or "static"
        check = entry.get("export_check")
        check = f", torch vs onnxruntime {check['torch_vs_onnxruntime']:.1e}" if check else ""
        print(f"    {entry['size_bytes'] / 1e6:.2f} MB, {len(entry['op_types'])} op types, "
              f"{entry['node_count']} nodes, opsets {entry['opsets']}, {dims}, "
              f"{len(entry['sizes'])} size(s){check} ({entry['build_seconds']:.1f} s)",
              flush=True)

    merged = {**previous, **built}
    order = list(entries)
    index = {
        "format": CORPUS_FORMAT,
        "generator": "test/models/build_corpus.py",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "reference": "onnxruntime CPUExecutionProvider, ORT_DISABLE_ALL graph optimizations, "
                     "1 thread",
        "versions": {d: version(d) for d in ("onnxruntime", "onnx", "numpy", "torch",
                                             "torchvision", "transformers", "onnxscript")},
        "python": sys.version.split()[0],
        "models": [merged[n] for n in order if n in merged] +
                  [m for n, m in merged.items() if n not in entries],
    }
    with open(index_path, "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    total_mb = sum(m["size_bytes"] for m in index["models"]) / 1e6
    print(f"\nwrote {index_path}: {len(index['models'])} models, {total_mb:.1f} MB of .onnx "
          f"({time.monotonic() - start:.0f} s)")
    if failed:
        print(f"failed to build: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
