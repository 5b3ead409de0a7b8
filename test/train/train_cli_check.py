#!/usr/bin/env python3
"""`dlc train` beyond the digits: a transformer encoder block (MatMul, Softmax,
LayerNorm, Erf, Transpose, Reshape) trained with MSE and AdamW must lower its loss, a
small LSTM language model (Embedding, LSTM over 6 steps, a vocabulary projection)
trained with cross-entropy must learn to predict the next token, the
run must be reproducible for a seed, the runtime's loop (`dlc-run --train` on the step
from `dlc train --emit-step artifact`) must give dlc train's losses, also for an fp16
step with dynamic loss scaling (the CUDA kernels emulated) that starts from a scale
fp16 cannot hold, and bad input of every kind must give one line on stderr and exit
status 1.

  train_cli_check.py --dlc build/bin/dlc
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def make_lstm_lm(work, vocab=16, embed=8, hidden=16, steps=6, samples=512):
    """Writes an LSTM next-token model (tokens [batch, 6] int64 -> logits [batch, 16]) with
    seeded weights, and its data; returns their paths."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    w = lambda *s: numpy_helper.from_array(
        (rng.standard_normal(s) * 0.3).astype(np.float32))
    inits = [w(vocab, embed), w(1, 4 * hidden, embed), w(1, 4 * hidden, hidden),
             numpy_helper.from_array(np.zeros((1, 8 * hidden), np.float32)),
             w(hidden, vocab), numpy_helper.from_array(np.zeros(vocab, np.float32)),
             numpy_helper.from_array(np.array([0], np.int64))]
    for t, name in zip(inits, ["embed", "W", "R", "B", "proj", "bias", "axis0"]):
        t.name = name
    nodes = [helper.make_node("Gather", ["embed", "tokens"], ["e"]),
             helper.make_node("Transpose", ["e"], ["et"], perm=[1, 0, 2]),
             helper.make_node("LSTM", ["et", "W", "R", "B"], ["", "h"], hidden_size=hidden),
             helper.make_node("Squeeze", ["h", "axis0"], ["hs"]),
             helper.make_node("MatMul", ["hs", "proj"], ["p"]),
             helper.make_node("Add", ["p", "bias"], ["logits"])]
    g = helper.make_graph(
        nodes, "lstm_lm", [helper.make_tensor_value_info("tokens", TensorProto.INT64,
                                                         ["batch", steps])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", vocab])], inits)
    path = os.path.join(work, "lstm_lm.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    cycle = np.random.default_rng(8).permutation(vocab)
    start = np.random.default_rng(9).integers(0, vocab, samples)
    seq = cycle[(start[:, None] + np.arange(steps + 1)) % vocab]
    data = os.path.join(work, "lm.npz")
    np.savez(data, tokens=seq[:, :steps].astype(np.int64), label=seq[:, steps].astype(np.int64))
    return path, data


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlc", required=True)
    args = parser.parse_args()
    failures = 0

    def report(ok, what):
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}")

    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "e2e",
                                                     "make_models.py"), work],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, os.path.join(HERE, "make_digits.py"), work],
                       check=True, stdout=subprocess.DEVNULL)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((64, 8, 32)).astype(np.float32)
        data = os.path.join(work, "enc.npz")
        np.savez(data, x=x, label=np.tanh(x[:, ::-1, :]))
        enc = os.path.join(work, "encoder.onnx")
        curves = []
        for run in range(2):
            out = os.path.join(work, f"enc{run}.onnx")
            p = subprocess.run([args.dlc, "train", enc, "--data", data, "--loss", "mse",
                                "--optimizer", "adamw", "--lr", "0.003", "--batch-size", "16",
                                "--epochs", "6", "--seed", "3", "--target", "cpu", "-o", out],
                               capture_output=True, text=True)
            if p.returncode != 0:
                report(False, f"encoder training: {p.stderr.strip()}")
                break
            with open(out[:-5] + ".loss.csv") as f:
                curves.append([float(r["train_loss"]) for r in csv.DictReader(f)])
        if len(curves) == 2:
            report(curves[0][-1] < 0.8 * curves[0][0],
                   f"encoder block: MSE {curves[0][0]:.4f} -> {curves[0][-1]:.4f} in 6 epochs")
            report(curves[0] == curves[1], "the same seed gives the same losses")

        # The LSTM language model: tokens of a fixed permutation cycle, the label is the
        # token after a window of 6; chance is log(16) = 2.77 nats.
        lm, lm_data = make_lstm_lm(work)
        out = os.path.join(work, "lm_trained.onnx")
        p = subprocess.run([args.dlc, "train", lm, "--data", lm_data, "--loss", "cross_entropy",
                            "--optimizer", "adam", "--lr", "0.03", "--batch-size", "32",
                            "--epochs", "8", "--seed", "1", "--target", "cpu", "-o", out],
                           capture_output=True, text=True)
        if p.returncode != 0:
            report(False, f"LSTM language model training: {p.stderr.strip()}")
        else:
            with open(out[:-5] + ".loss.csv") as f:
                lm_loss = [float(r["train_loss"]) for r in csv.DictReader(f)]
            report(lm_loss[-1] < 0.25 * lm_loss[0],
                   f"LSTM language model: cross-entropy {lm_loss[0]:.3f} -> {lm_loss[-1]:.3f} "
                   "in 8 epochs")

        mlp = os.path.join(work, "mlp.onnx")
        train = os.path.join(work, "train.npz")

        # The runtime's training loop (dlc-run --train, no compiler) on the compiled step
        # gives dlc train's losses exactly, for the same seed.
        dlc_run = os.path.join(os.path.dirname(args.dlc), "dlc-run")

        def run_both(name, flags, epochs, run_flags=(), env=None):
            """The step of `flags` (dlc train --emit-step artifact) trained by dlc-run
            --train and the same training by dlc train, seed 5: (error, dlc-run's
            stdout, its per-epoch losses, dlc train's stdout, its losses)."""
            step = os.path.join(work, f"{name}.step.dlc")
            p1 = subprocess.run([args.dlc, "train", mlp, *flags, "--emit-step", "artifact",
                                 "-o", step], capture_output=True, text=True, env=env)
            p2 = subprocess.run([dlc_run, "--train", step, step[:-4] + ".init.npz", train,
                                 "--epochs", str(epochs), "--seed", "5", *run_flags],
                                capture_output=True, text=True, env=env)
            p3 = subprocess.run([args.dlc, "train", mlp, *flags, "--data", train, "--epochs",
                                 str(epochs), "--seed", "5", "-o",
                                 os.path.join(work, f"{name}.onnx")],
                                capture_output=True, text=True, env=env)
            if p1.returncode or p2.returncode or p3.returncode:
                return (p1.stderr + p2.stderr + p3.stderr).strip(), "", [], "", []
            got = [float(x) for x in re.findall(r"train loss ([0-9.eE+-]+),", p2.stdout)]
            with open(os.path.join(work, f"{name}.loss.csv")) as f:
                ref = [float(r["train_loss"]) for r in csv.DictReader(f)]
            return None, p2.stdout, got, p3.stdout, ref

        flags = ["--loss", "cross_entropy", "--optimizer", "adamw", "--lr", "0.01",
                 "--target", "cpu"]
        err, _, got, _, ref = run_both("mlp_adamw", flags, 3,
                                       ["--save", os.path.join(work, "state.npz")])
        if err:
            report(False, "dlc-run --train: " + err)
        else:
            report(got == ref, f"dlc-run --train matches dlc train: {got} vs {ref}")
            # The saved state is a .npz numpy reads: parameters and Adam moments.
            saved = np.load(os.path.join(work, "state.npz"))
            report(sorted(saved.keys())[:3] == ["fc1.bias", "fc1.bias.exp_avg",
                                                "fc1.bias.exp_avg_sq"]
                   and saved["fc1.weight"].shape == (64, 64),
                   f"dlc-run --train --save writes a .npz numpy reads: {sorted(saved.keys())}")
        # fp16 with dynamic loss scaling, the CUDA kernels emulated: a scale of 1e30
        # overflows fp16 in the backward contractions, so the first steps are skipped
        # (the scale halves each time) until it fits; then the MLP learns. dlc-run
        # --train takes the scaler's settings from the .init.npz and gives the same
        # losses and skipped steps.
        emulated = dict(os.environ, DLC_EMULATE_GPU="1")
        flags = ["--loss", "cross_entropy", "--optimizer", "sgd", "--lr", "0.1",
                 "--momentum", "0.9", "--target", "cpu", "--precision", "fp16",
                 "--loss-scale", "1e30"]
        err, run_out, got, train_out, ref = run_both("mlp_fp16", flags, 4, env=emulated)
        if err:
            report(False, "fp16 loss scaling: " + err)
        else:
            scale_re = r"loss scale ([0-9.e+]+) \(([0-9]+) steps skipped\)"
            skipped = re.findall(scale_re, train_out)
            skipped_run = re.findall(scale_re, run_out)
            final = float(skipped[-1][0]) if skipped else 0
            halved = 1e30 * 0.5 ** int(skipped[-1][1]) if skipped else 0
            report(len(skipped) == 4 and int(skipped[-1][1]) > 0
                   and abs(final - halved) <= 1e-5 * halved and ref[-1] < 0.5 * ref[0],
                   f"fp16 loss scaling from 1e30: {skipped[-1] if skipped else None} "
                   f"(scale, skipped steps) after 4 epochs, loss {ref[0]:.3f} -> {ref[-1]:.3f}")
            report(got == ref and [n for _, n in skipped_run] == [n for _, n in skipped],
                   f"dlc-run --train with loss scaling matches dlc train: {got} vs {ref}")
        bad_labels = os.path.join(work, "bad_labels.npz")
        np.savez(bad_labels, x=np.zeros((40, 64), np.float32), y=np.zeros(40, np.int64))
        compressed = os.path.join(work, "compressed.npz")
        np.savez_compressed(compressed, x=np.zeros((40, 64), np.float32),
                            label=np.zeros(40, np.int64))
        wrong_shape = os.path.join(work, "wrong_shape.npz")
        np.savez(wrong_shape, x=np.zeros((40, 63), np.float32), label=np.zeros(40, np.int64))
        not_npz = os.path.join(work, "not.npz")
        with open(not_npz, "wb") as f:
            f.write(b"this is not a zip file at all")
        bad_class = os.path.join(work, "bad_class.npz")
        np.savez(bad_class, x=np.zeros((40, 64), np.float32),
                 label=np.full(40, 10, np.int64))
        tiny = os.path.join(work, "tiny.npz")
        np.savez(tiny, x=np.zeros((3, 64), np.float32), label=np.zeros(3, np.int64))
        base = ["--loss", "cross_entropy", "--optimizer", "sgd", "--target", "cpu",
                "-o", os.path.join(work, "out.onnx")]
        cases = [
            ("no label array", [mlp, "--data", bad_labels, *base], "has no array 'label'"),
            ("compressed npz", [mlp, "--data", compressed, *base], "savez_compressed"),
            ("wrong sample shape", [mlp, "--data", wrong_shape, *base], "samples of shape"),
            ("not an npz", [mlp, "--data", not_npz, *base], "not a .npz"),
            ("fewer samples than a batch", [mlp, "--data", tiny, *base], "fewer than one batch"),
            ("label out of range", [mlp, "--data", bad_class, *base], "is not a class"),
            ("unknown freeze", [mlp, "--data", train, "--freeze", "nope", *base], "'nope'"),
            ("bad loss", [mlp, "--data", train, "--loss", "hinge", "--optimizer", "sgd", "-o",
                          "x.onnx"], "--loss must be"),
            ("bad lr", [mlp, "--data", train, "--lr", "-1", *base], "--lr must be positive"),
            ("bad batch size", [mlp, "--data", train, "--batch-size", "0", *base],
             "--batch-size needs"),
            ("nesterov without momentum", [mlp, "--data", train, "--nesterov", *base],
             "--nesterov needs"),
            ("missing model", [os.path.join(work, "none.onnx"), "--data", train, *base],
             "cannot open"),
            ("no --data", [mlp, *base], "train needs --data"),
            ("negative loss scale", [mlp, "--data", train, "--loss-scale", "-2", *base],
             "--loss-scale needs a positive number or off"),
            ("loss scale not a number", [mlp, "--data", train, "--loss-scale", "big", *base],
             "--loss-scale needs a positive number or off"),
        ]
        for what, argv, expected in cases:
            p = subprocess.run([args.dlc, "train", *argv], capture_output=True, text=True)
            lines = p.stderr.strip().splitlines()
            ok = p.returncode == 1 and len(lines) == 1 and expected in lines[0]
            report(ok, f"{what}: exit {p.returncode}: {p.stderr.strip()[:150]}")
    print(f"dlc train checks: {'all passed' if not failures else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
