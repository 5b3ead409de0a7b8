#!/usr/bin/env python3
"""Exports one TensorFlow model through tf2onnx for the probe (test/models/probe/run_tf.sh).

  python test/models/probe/export_tf.py NAME OPSET

writes $DLC_PROBE_DIR/m/NAME_tfOPSET.onnx (default build/probe/m), its inputs for two
sizes (s0: batch 1, s1: batch 2 and longer sequences / more rows) and onnxruntime's
outputs for them, in the layout check.py reads. The models are what users convert
with tf2onnx: Keras applications (seeded random weights, NHWC, dynamic batch and image
size where the architecture allows), Keras recurrent and attention text models, and
tf.functions with tf.while_loop, tf.cond, TensorArrays, NMS, top_k, boolean masks and
unique (Loop, If, sequences, data-dependent shapes: issue 15 as tf2onnx writes it).
IMAGE_SIZE=N feeds the models with an open image size at N x N (s1: N + 16 x N + 8).

It needs a virtual environment with tensorflow-cpu 2.15 and tf2onnx 1.16 (not the
corpus venv: tf2onnx pins protobuf 3.20); run_tf.sh makes one."""
import os, sys, time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf

OUT = os.path.join(os.environ.get("DLC_PROBE_DIR", "build/probe"), "m")
os.makedirs(OUT, exist_ok=True)
V = 100  # vocabulary


# --- input specs: (name, dtype, shape with names for open dims, sizes per set) ---------
def image(h, w=None, spatial=True):
    # IMAGE_SIZE=224 exports and feeds the models with an open image size at that size.
    if spatial and os.environ.get("IMAGE_SIZE"):
        h = w = int(os.environ["IMAGE_SIZE"])
    w = w or h
    return [("image", np.float32, ["batch", "h" if spatial else h, "w" if spatial else w, 3],
             [{"h": h, "w": w}, {"h": h + 16, "w": w + 8}])]


def tokens(seq=12):
    return [("tokens", np.int32, ["batch", "seq"], [{"seq": seq}, {"seq": seq + 5}])]


def rows(n, cols):
    return [("x", np.float32, ["rows", cols], [{"rows": n}, {"rows": n + 7}])]


def tf_spec(spec):
    return [tf.TensorSpec([None if isinstance(d, str) else d for d in shp], tf.as_dtype(dt), name=n)
            for n, dt, shp, _ in spec]


def make_inputs(spec, k):
    rng = np.random.default_rng(10 + k)
    arrs = []
    for name, dt, shp, sizes in spec:
        s = tuple(1 + k if d == "batch" else sizes[k][d] if isinstance(d, str) else d for d in shp)
        if np.issubdtype(dt, np.integer):
            a = rng.integers(1, V, s).astype(dt)
            if name == "tokens" and s[1] > 4:  # padded tails for masking models
                a[-1, -3:] = 0
        elif name == "boxes":
            xy = rng.random(s[:-1] + (2,)) * 20
            wh = rng.random(s[:-1] + (2,)) * 8 + 1
            a = np.concatenate([xy, xy + wh], -1).astype(dt)
        elif name == "image":
            a = rng.random(s).astype(dt)
        else:
            a = rng.standard_normal(s).astype(dt)
        arrs.append(a)
    return arrs


# --- Keras applications ------------------------------------------------------------------
def app(cls, h=64, spatial=True, **kw):
    def build():
        # With the classifier on top Keras wants a static image size: an open one keeps
        # the backbone and its global average pool.
        if spatial:
            kw.update(include_top=False, pooling="avg")
        size = (None, None, 3) if spatial else (h, h, 3)
        return getattr(tf.keras.applications, cls)(weights=None, input_shape=size, **kw)
    return build, image(h, spatial=spatial)


# --- Keras text models ---------------------------------------------------------------------
def lstm_tagger():
    x = tf.keras.Input((None,), dtype="int32", name="tokens")
    e = tf.keras.layers.Embedding(V, 16)(x)
    h = tf.keras.layers.LSTM(24, return_sequences=True)(e)
    h = tf.keras.layers.Bidirectional(tf.keras.layers.GRU(12, return_sequences=True))(h)
    return tf.keras.Model(x, tf.keras.layers.Dense(5)(h))


def masked_lstm():
    # mask_zero: the padded tail of each sentence is skipped (keras masking).
    x = tf.keras.Input((None,), dtype="int32", name="tokens")
    e = tf.keras.layers.Embedding(V, 16, mask_zero=True)(x)
    h = tf.keras.layers.LSTM(20)(e)
    return tf.keras.Model(x, tf.keras.layers.Dense(3, activation="softmax")(h))


def simple_rnn():
    x = tf.keras.Input((None,), dtype="int32", name="tokens")
    e = tf.keras.layers.Embedding(V, 8)(x)
    h = tf.keras.layers.SimpleRNN(16, return_sequences=True, go_backwards=True)(e)
    h = tf.keras.layers.GRU(16, reset_after=False)(h)
    return tf.keras.Model(x, tf.keras.layers.Dense(4)(h))


def conv1d_text():
    x = tf.keras.Input((None,), dtype="int32", name="tokens")
    e = tf.keras.layers.Embedding(V, 16)(x)
    h = tf.keras.layers.Conv1D(32, 3, padding="same", activation="relu")(e)
    h = tf.keras.layers.MaxPooling1D(2, padding="same")(h)
    h = tf.keras.layers.Conv1D(32, 3, dilation_rate=2, padding="causal", activation="gelu")(h)
    h = tf.keras.layers.GlobalMaxPooling1D()(h)
    return tf.keras.Model(x, tf.keras.layers.Dense(3)(h))


def transformer():
    x = tf.keras.Input((None,), dtype="int32", name="tokens")
    h = tf.keras.layers.Embedding(V, 32)(x)
    pos = tf.keras.layers.Lambda(lambda t: tf.range(tf.shape(t)[1]))(x)
    h = h + tf.keras.layers.Embedding(64, 32)(pos)
    for _ in range(2):
        a = tf.keras.layers.MultiHeadAttention(4, 8)(h, h, use_causal_mask=True)
        h = tf.keras.layers.LayerNormalization()(h + a)
        f = tf.keras.layers.Dense(64, activation="gelu")(h)
        h = tf.keras.layers.LayerNormalization()(h + tf.keras.layers.Dense(32)(f))
    return tf.keras.Model(x, tf.keras.layers.Dense(V)(h))


def unet():
    x = tf.keras.Input((None, None, 3), name="image")
    c1 = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    p = tf.keras.layers.MaxPooling2D()(c1)
    c2 = tf.keras.layers.SeparableConv2D(16, 3, padding="same", activation="relu")(p)
    c2 = tf.keras.layers.BatchNormalization()(c2)
    u = tf.keras.layers.Conv2DTranspose(8, 2, strides=2, padding="same")(c2)
    u = tf.keras.layers.Concatenate()([u, c1])
    r = tf.keras.layers.UpSampling2D(interpolation="bilinear")(
        tf.keras.layers.Conv2D(4, 3, strides=2, padding="same")(u))
    return tf.keras.Model(x, tf.keras.layers.Conv2D(2, 1)(r + tf.keras.layers.Conv2D(4, 1)(u)))


# --- tf.functions with control flow and data-dependent shapes ----------------------------
def while_cumulative(x):
    """tf.while_loop over the rows with a TensorArray: a running state -> Loop."""
    w = tf.constant(np.random.default_rng(1).standard_normal((8, 8)).astype(np.float32) * 0.3)
    n = tf.shape(x)[0]
    ta = tf.TensorArray(tf.float32, size=n)

    def body(i, h, ta):
        h = tf.tanh(tf.linalg.matvec(w, h, transpose_a=True) + x[i])
        return i + 1, h, ta.write(i, h)

    _, h, ta = tf.while_loop(lambda i, h, ta: i < n, body, (0, tf.zeros([8]), ta))
    return ta.stack(), h


def while_converge(x):
    """A while on a data-dependent condition (halve until the norm is small)."""
    def cond(v, k):
        return tf.logical_and(tf.norm(v) > 1.0, k < 50)

    v, k = tf.while_loop(cond, lambda v, k: (v * 0.5 + 0.01, k + 1), (x, 0))
    return v, k


def cond_branch(x):
    """tf.cond on data: branches of different shapes."""
    return tf.cond(tf.reduce_sum(x) > 0, lambda: tf.reduce_max(x, axis=1),
                   lambda: tf.reshape(x, [-1])[:3] * 2.0)


def nms(boxes, scores):
    keep = tf.image.non_max_suppression(boxes, scores, max_output_size=20, iou_threshold=0.4,
                                        score_threshold=0.1)
    return tf.gather(boxes, keep), tf.gather(scores, keep)


def nms_padded(boxes, scores):
    keep, valid = tf.image.non_max_suppression_padded(boxes, scores, max_output_size=10,
                                                      iou_threshold=0.5, pad_to_max_output_size=True)
    return keep, valid


def data_dependent(x):
    """top_k over half the row, a boolean mask, tf.where, unique, argsort, cumsum."""
    k = tf.shape(x)[1] // 2
    vals, idx = tf.math.top_k(x, k=k)
    pos = tf.boolean_mask(x, x > 0.5)
    where = tf.where(x > 1.0)
    u, ui = tf.unique(tf.cast(tf.reshape(tf.round(x * 2.0), [-1]), tf.int32))
    order = tf.argsort(x[:, 0], direction="DESCENDING")
    return vals, idx, pos, where, u, ui, order, tf.math.cumsum(x, axis=0, exclusive=True)


def image_ops(x):
    """tf.image resizes, depth_to_space, crop, gather_nd, scatter_nd, einsum."""
    r1 = tf.image.resize(x, [17, 23], method="bilinear")
    r2 = tf.image.resize(x, tf.shape(x)[1:3] * 2, method="nearest")
    r3 = tf.compat.v1.image.resize_bilinear(x, [9, 9], align_corners=True)
    d = tf.nn.depth_to_space(tf.concat([x, x, x, x], -1), 2)
    c = tf.image.crop_and_resize(x, [[0.1, 0.1, 0.8, 0.9], [0.0, 0.2, 0.5, 1.0]],
                                 tf.zeros([2], tf.int32), [5, 6])
    e = tf.einsum("bhwc,bhwc->bc", x, x)
    return r1, r2, r3, d, c, e


def fn(f, spec):
    return ("fn", f, spec)


MODELS = {
    # Keras applications: depthwise, SE, swish and hard-swish, inception branches,
    # separable convs, dense blocks, layer scale.
    "mobilenet_v2": app("MobileNetV2", alpha=0.35),
    "mobilenet_v3_small": app("MobileNetV3Small", h=64, minimalistic=False),
    "resnet50": app("ResNet50"),
    "efficientnet_b0": app("EfficientNetB0"),
    "efficientnet_v2_b0": app("EfficientNetV2B0"),
    "densenet121": app("DenseNet121"),
    "inception_v3": app("InceptionV3", h=96),
    "xception": app("Xception", h=80),
    "nasnet_mobile": app("NASNetMobile", h=64, spatial=False),
    "convnext_tiny": app("ConvNeXtTiny", h=64),
    "regnetx002": app("RegNetX002", h=64),
    "unet_keras": (unet, image(32)),
    # Keras text models.
    "lstm_tagger": (lstm_tagger, tokens()),
    "masked_lstm": (masked_lstm, tokens()),
    "simple_rnn": (simple_rnn, tokens()),
    "conv1d_text": (conv1d_text, tokens(16)),
    "transformer": (transformer, tokens()),
    # tf.functions.
    "while_cumulative": fn(while_cumulative, rows(5, 8)),
    "while_converge": fn(while_converge, rows(4, 3)),
    "cond_branch": fn(cond_branch, rows(4, 5)),
    "nms": fn(nms, [("boxes", np.float32, ["rows", 4], [{"rows": 40}, {"rows": 60}]),
                    ("scores", np.float32, ["rows"], [{"rows": 40}, {"rows": 60}])]),
    "nms_padded": fn(nms_padded, [("boxes", np.float32, ["rows", 4], [{"rows": 30}, {"rows": 45}]),
                                  ("scores", np.float32, ["rows"], [{"rows": 30}, {"rows": 45}])]),
    "data_dependent": fn(data_dependent, rows(12, 6)),
    "image_ops": fn(image_ops, image(12)),
}


def main():
    import tf2onnx, onnx, onnxruntime as ort
    name, opset = sys.argv[1], int(sys.argv[2])
    entry = MODELS[name]
    tag = f"{name}_tf{opset}"
    path = f"{OUT}/{tag}.onnx"
    tf.keras.utils.set_random_seed(0)
    t0 = time.time()
    if entry[0] == "fn":
        _, f, spec = entry
        tf2onnx.convert.from_function(tf.function(f), input_signature=tf_spec(spec), opset=opset,
                                      output_path=path)
        model = f
    else:
        build, spec = entry
        model = build()
        # BatchNorm statistics that are not the identity, as in export.py's randomize.
        for layer in model.layers:
            if isinstance(layer, tf.keras.layers.BatchNormalization):
                mean, var = layer.moving_mean, layer.moving_variance
                mean.assign(np.random.default_rng(2).normal(0, 0.2, mean.shape).astype(np.float32))
                var.assign(np.random.default_rng(3).uniform(0.5, 1.5, var.shape).astype(np.float32))
        tf2onnx.convert.from_keras(model, input_signature=tf_spec(spec), opset=opset, output_path=path)
    print(f"export {tag}: {time.time() - t0:.1f}s")
    mo = onnx.load(path)
    try:
        onnx.checker.check_model(mo)
    except onnx.checker.ValidationError as e:  # onnxruntime may still take it
        print("onnx checker:", str(e).splitlines()[0])
    print("ops:", " ".join(sorted({n.op_type for n in mo.graph.node})))
    print("inputs:", [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim])
                      for i in mo.graph.input])
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    gin = [i.name for i in sess.get_inputs()]
    for k in (0, 1):
        arrs = make_inputs(spec, k)
        feed = dict(zip(gin, arrs))
        try:
            refs = sess.run(None, feed)
        except Exception as e:
            print(f"ort s{k} failed: {str(e).splitlines()[0][:300]}")
            continue
        for i, n in enumerate(gin):
            np.save(f"{OUT}/{tag}.s{k}.input_{i}.npy", feed[n])
        for i, r in enumerate(refs):
            np.save(f"{OUT}/{tag}.s{k}.ref_{i}.npy", r)
        if k == 0:
            res = model(*[tf.constant(a) for a in arrs])
            res = res if isinstance(res, (tuple, list)) else (res,)
            d = max(float(np.abs(np.asarray(t, np.float64) - r).max()) if np.size(r) else 0.0
                    for t, r in zip(res, refs))
            print(f"tf-vs-ort s0 maxdiff {d:.2e}")
    print("OK", tag)


if __name__ == "__main__":
    main()
