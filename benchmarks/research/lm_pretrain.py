"""Pretrain the BiLSTM encoder as a forward and a backward language model (ELMo / ULMFiT style).

Uses only the dataset's training reviews (the same split, vocabulary and head+tail cut as
``bilstm_research.py``), starts the embedding from the same word2vec vectors, and trains

    shared Embedding(vocab, 128) -> dropout -> LSTM_fwd(64) on the review  -> next token
                                            -> LSTM_bwd(64) on the reversed review -> previous token

with a sampled softmax (shared output weights) over the 30k vocabulary. Saves an ``.npz``
with the embedding and both LSTMs' weights, which ``bilstm_research.py --init-lm FILE``
loads into its ``Bidirectional(LSTM(64))`` (the backward LSTM of Keras' Bidirectional runs
with ``go_backwards=True``, i.e. over the reversed review, so the weights fit as they are).

    python benchmarks/research/lm_pretrain.py --dataset steam --epochs 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras
import numpy as np
import tensorflow as tf
from common import load_average, prepare, save_result


def batches(ids: list[np.ndarray], batch_size: int, rng: np.random.RandomState):
    """Length-sorted chunks, shuffled: (input, target) for both directions, post-padded."""
    order = np.argsort([len(s) for s in ids], kind="stable")
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(chunks)
    for chunk in chunks:
        seqs = [ids[i] for i in chunk if len(ids[i]) >= 2]
        if not seqs:
            continue
        width = max(len(s) for s in seqs) - 1
        fwd_in = np.zeros((len(seqs), width), np.int32)
        fwd_out = np.zeros_like(fwd_in)
        bwd_in = np.zeros_like(fwd_in)
        bwd_out = np.zeros_like(fwd_in)
        for row, s in enumerate(seqs):
            n = len(s) - 1
            fwd_in[row, :n], fwd_out[row, :n] = s[:-1], s[1:]
            r = s[::-1]
            bwd_in[row, :n], bwd_out[row, :n] = r[:-1], r[1:]
        yield fwd_in, fwd_out, bwd_in, bwd_out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", required=True, choices=["steam", "nsmc", "imdb"])
    p.add_argument("--tokenizer", default=None)
    p.add_argument("--max-length", type=int, default=None)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--num-sampled", type=int, default=512)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(1337)
    korean = args.dataset != "imdb"
    tokenizer = args.tokenizer or ("kiwi" if korean else "english")
    max_length = args.max_length or (80 if korean else 400)
    data, matrix = prepare(args.dataset, tokenizer, {}, max_length=max_length)
    vocab = data.vocab_size
    out = Path(args.out or f"/tmp/research-cache/lm-{args.dataset}-{tokenizer}-{args.units}.npz")

    embedding = tf.Variable(matrix, name="embedding")
    fwd = keras.layers.LSTM(args.units, return_sequences=True)
    bwd = keras.layers.LSTM(args.units, return_sequences=True)
    fwd.build((None, None, matrix.shape[1]))
    bwd.build((None, None, matrix.shape[1]))
    soft_w = tf.Variable(tf.random.normal((vocab, args.units), stddev=0.05), name="softmax_w")
    soft_b = tf.Variable(tf.zeros((vocab,)), name="softmax_b")
    variables = [embedding, soft_w, soft_b, *fwd.trainable_variables, *bwd.trainable_variables]
    optimizer = keras.optimizers.Adam(args.learning_rate, clipnorm=1.0)
    optimizer.build(variables)

    def direction_loss(layer, x, y, training):
        mask = tf.not_equal(x, 0)
        e = tf.gather(embedding, x)
        if training:
            e = tf.nn.dropout(e, args.dropout)
        h = layer(e, mask=mask, training=training)
        h = tf.reshape(h, (-1, args.units))
        labels = tf.reshape(tf.cast(y, tf.int64), (-1, 1))
        keep = tf.reshape(mask, (-1,))
        h, labels = tf.boolean_mask(h, keep), tf.boolean_mask(labels, keep)
        if training:
            losses = tf.nn.sampled_softmax_loss(soft_w, soft_b, labels, h, args.num_sampled, vocab)
        else:
            logits = tf.matmul(h, soft_w, transpose_b=True) + soft_b
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels[:, 0], logits)
        return tf.reduce_mean(losses)

    @tf.function(reduce_retracing=True)
    def step(fi, fo, bi, bo):
        with tf.GradientTape() as tape:
            loss_f = direction_loss(fwd, fi, fo, True)
            loss_b = direction_loss(bwd, bi, bo, True)
            loss = loss_f + loss_b
        grads = tape.gradient(loss, variables)
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        optimizer.apply(grads, variables)
        return loss_f, loss_b

    @tf.function(reduce_retracing=True)
    def evaluate(fi, fo, bi, bo):
        return direction_loss(fwd, fi, fo, False), direction_loss(bwd, bi, bo, False)

    rng = np.random.RandomState(1337)
    history = []
    for epoch in range(1, args.epochs + 1):
        t0, cpu0 = time.perf_counter(), time.process_time()
        losses = []
        n_batches = 0
        for fi, fo, bi, bo in batches(data.train_ids, args.batch_size, rng):
            lf, lb = step(fi, fo, bi, bo)
            losses.append((float(lf), float(lb)))
            n_batches += 1
            if n_batches % 50 == 0:
                print(
                    f"epoch {epoch} batch {n_batches}: sampled loss fwd {np.mean([pair[0] for pair in losses[-50:]]):.3f} "
                    f"bwd {np.mean([pair[1] for pair in losses[-50:]]):.3f} ({time.perf_counter() - t0:.0f}s)",
                    flush=True,
                )
        val = [evaluate(*b) for b in batches(data.val_ids, 256, np.random.RandomState(0))]
        row = {
            "epoch": epoch,
            "train_sampled_loss": [
                float(np.mean([pair[0] for pair in losses])),
                float(np.mean([pair[1] for pair in losses])),
            ],
            "val_ppl_fwd": float(np.exp(np.mean([float(v[0]) for v in val]))),
            "val_ppl_bwd": float(np.exp(np.mean([float(v[1]) for v in val]))),
            "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - cpu0,
            "load_average": load_average(),
        }
        history.append(row)
        print(json.dumps(row), flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            embedding=embedding.numpy(),
            units=args.units,
            **{f"fwd_{i}": w for i, w in enumerate(fwd.get_weights())},
            **{f"bwd_{i}": w for i, w in enumerate(bwd.get_weights())},
        )
        tmp.replace(out)
    tokens = int(sum(len(s) for s in data.train_ids))
    save_result(
        f"lm-{args.dataset}-{tokenizer}-{args.units}",
        {
            "command": "python benchmarks/research/lm_pretrain.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "args": vars(args),
            "train_tokens": tokens,
            "epochs": history,
            "weights": str(out),
        },
    )
    print(f"saved {out}; {tokens} training tokens")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # TensorFlow's tf.data threads sometimes hang the interpreter's exit under load
