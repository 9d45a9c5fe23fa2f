"""BiLSTM-attention variants measured on the VALIDATION split (issue 13 research).

One command per experiment, e.g.::

    BILSTM_ATTENTION_CACHE=/tmp/research-cache TF_CPP_MIN_LOG_LEVEL=2 \
      nice -n 15 python benchmarks/research/bilstm_research.py --dataset steam --name steam-base

The default settings are the package's tuned BiLSTM part for Korean (Kiwi morphemes, vocabulary
30k, 80 tokens head+tail, word2vec CBOW start, one BiLSTM(64, dropout .5), Bahdanau(64) with
the final states as query, Dense 20 + dropout .5, Adam 2e-3, bucketed batches of 128).
Options add: other token units, pooling heads (attention context + masked max + mean),
spatial embedding dropout, label smoothing, AdamW, and adversarial (Miyato et al. 2017, AT)
or virtual adversarial (VAT) training on the (frequency-normalised) embeddings, written as a
custom ``train_step`` for the TensorFlow backend.

Prints one line per epoch and saves ``benchmarks/research/results/<name>.json`` with the
validation accuracy/loss of every epoch, seconds per epoch and the load average.
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

from bilstm_attention.features.pipeline import training_dataset
from bilstm_attention.layers import BahdanauAttention, LuongAttention


def _l2_normalize(x: tf.Tensor) -> tf.Tensor:
    """Scale every example's perturbation (all steps and channels) to unit L2 norm."""
    norm = tf.sqrt(tf.reduce_sum(tf.square(x), axis=[1, 2], keepdims=True) + 1e-12)
    return x / norm


def _bernoulli_kl(p: tf.Tensor, q_logits: tf.Tensor) -> tf.Tensor:
    q = tf.sigmoid(q_logits)
    eps = 1e-7
    p = tf.clip_by_value(p, eps, 1 - eps)
    q = tf.clip_by_value(q, eps, 1 - eps)
    return tf.reduce_mean(p * tf.math.log(p / q) + (1 - p) * tf.math.log((1 - p) / (1 - q)))


class ResearchNet(keras.Model):
    """Embedding -> [spatial dropout] -> BiLSTM xN -> attention [+ max + mean pooling] -> head.

    Returns logits of shape (batch,). With ``normalize_embeddings`` the embedding rows are
    standardised with the training frequencies (Miyato et al. 2017) so that a perturbation of
    fixed norm means the same at every point of training.
    """

    def __init__(self, args: argparse.Namespace, vocab_size: int, counts: np.ndarray) -> None:
        super().__init__()
        self.args = args
        self.embedding = keras.layers.Embedding(vocab_size, args.embedding_dim)
        self.embedding.build((None, None))
        freqs = counts / max(counts.sum(), 1.0)
        self.freqs = tf.constant(freqs[:, None], dtype="float32")
        self.spatial = keras.layers.SpatialDropout1D(args.embedding_dropout) if args.embedding_dropout else None
        self.word_dropout = args.word_dropout
        self.bilstms = [
            keras.layers.Bidirectional(
                keras.layers.LSTM(
                    units, dropout=args.lstm_dropout, return_sequences=True, return_state=i == len(args.lstm_units) - 1
                )
            )
            for i, units in enumerate(args.lstm_units)
        ]
        if args.attention.startswith("bahdanau"):
            self.attention = BahdanauAttention(args.attention_units, normalize=args.attention == "bahdanau:normalized")
        else:
            variant = args.attention.split(":")[1]
            self.attention = LuongAttention(score=variant, units=args.attention_units if variant == "concat" else None)
        self.dense = [keras.layers.Dense(u, activation="relu") for u in args.dense_units]
        self.dropouts = [keras.layers.Dropout(args.dense_dropout) for _ in args.dense_units]
        self.out = keras.layers.Dense(1)

    def embed(self, ids: tf.Tensor) -> tf.Tensor:
        table = self.embedding.embeddings
        if self.args.normalize_embeddings:
            mean = tf.reduce_sum(self.freqs * table, axis=0, keepdims=True)
            var = tf.reduce_sum(self.freqs * tf.square(table - mean), axis=0, keepdims=True)
            table = (table - mean) / tf.sqrt(var + 1e-6)
        return tf.gather(table, ids)

    def head(self, emb: tf.Tensor, mask: tf.Tensor, training: bool) -> tf.Tensor:
        x = emb
        if self.spatial is not None:
            x = self.spatial(x, training=training)
        if training and self.word_dropout:
            keep = tf.cast(tf.random.uniform(tf.shape(x)[:2]) >= self.word_dropout, x.dtype)
            x = x * keep[:, :, None]
        for bilstm in self.bilstms[:-1]:
            x = bilstm(x, mask=mask, training=training)
        x, fh, _, bh, _ = self.bilstms[-1](x, mask=mask, training=training)
        query = tf.concat([fh, bh], axis=-1)
        context, _ = self.attention(x, query, mask=mask, training=training)
        parts = [context]
        maskf = tf.cast(mask, x.dtype)[:, :, None]
        if "max" in self.args.pooling:
            parts.append(tf.reduce_max(x + (maskf - 1.0) * 1e4, axis=1))
        if "mean" in self.args.pooling:
            parts.append(tf.reduce_sum(x * maskf, axis=1) / tf.maximum(tf.reduce_sum(maskf, axis=1), 1.0))
        if "last" in self.args.pooling:
            parts.append(query)
        h = tf.concat(parts, axis=-1) if len(parts) > 1 else context
        for dense, dropout in zip(self.dense, self.dropouts):
            h = dropout(dense(h), training=training)
        return tf.squeeze(self.out(h), -1)

    def call(self, ids: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.head(self.embed(ids), tf.not_equal(ids, 0), training)

    def train_step(self, data):  # type: ignore[no-untyped-def]
        ids, y = data
        y = tf.cast(y, "float32")
        a = self.args
        mask = tf.not_equal(ids, 0)
        maskf = tf.cast(mask, "float32")[:, :, None]
        with tf.GradientTape() as tape:
            with tf.GradientTape() as inner:
                emb = self.embed(ids)
                inner.watch(emb)
                logits = self.head(emb, mask, True)
                loss = self.compute_loss(x=ids, y=y, y_pred=logits)
            total = loss
            if a.adv_eps:
                g = tf.stop_gradient(inner.gradient(loss, emb))
                r = a.adv_eps * _l2_normalize(g * maskf)
                adv_logits = self.head(emb + r, mask, True)
                total = total + a.adv_weight * self.compute_loss(x=ids, y=y, y_pred=adv_logits)
            if a.vat_eps:
                p = tf.stop_gradient(tf.sigmoid(logits))
                d = _l2_normalize(tf.random.normal(tf.shape(emb)) * maskf) * a.vat_xi
                with tf.GradientTape() as vtape:
                    vtape.watch(d)
                    kl = _bernoulli_kl(p, self.head(tf.stop_gradient(emb) + d, mask, True))
                gd = tf.stop_gradient(vtape.gradient(kl, d))
                r = a.vat_eps * _l2_normalize(gd * maskf)
                total = total + a.vat_weight * _bernoulli_kl(p, self.head(emb + r, mask, True))
        grads = tape.gradient(total, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", required=True, choices=["steam", "nsmc", "imdb"])
    p.add_argument("--name", required=True, help="result file name")
    p.add_argument("--tokenizer", default=None, help="kiwi | mecab | okt | english | char (default: kiwi / english)")
    p.add_argument("--tokenizer-options", default="{}", type=json.loads)
    p.add_argument("--vocab-size", type=int, default=30_000)
    p.add_argument("--max-length", type=int, default=None, help="default: 80 (Korean), 400 (IMDB)")
    p.add_argument("--train-subset", type=int, default=None, help="train on this many random training reviews")
    p.add_argument("--no-word2vec", action="store_true")
    p.add_argument("--embedding-dim", type=int, default=128)
    p.add_argument("--embedding-dropout", type=float, default=0.0, help="SpatialDropout1D rate")
    p.add_argument("--freeze-embedding", action="store_true", help="keep the word2vec vectors fixed")
    p.add_argument("--word-dropout", type=float, default=0.0, help="drop whole token vectors")
    p.add_argument("--normalize-embeddings", action="store_true")
    p.add_argument("--lstm-units", type=int, nargs="+", default=[64])
    p.add_argument("--lstm-dropout", type=float, default=0.5)
    p.add_argument("--attention", default="bahdanau")
    p.add_argument("--attention-units", type=int, default=64)
    p.add_argument("--pooling", default="att", help="att, att+max, att+max+mean, att+last ...")
    p.add_argument("--dense-units", type=int, nargs="*", default=[20])
    p.add_argument("--dense-dropout", type=float, default=0.5)
    p.add_argument("--optimizer", default="adam", choices=["adam", "adamw"])
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--clipnorm", type=float, default=None)
    p.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--adv-eps", type=float, default=0.0, help="adversarial perturbation norm (0 = off)")
    p.add_argument("--adv-weight", type=float, default=1.0)
    p.add_argument("--vat-eps", type=float, default=0.0, help="virtual adversarial perturbation norm (0 = off)")
    p.add_argument("--vat-xi", type=float, default=1e-1)
    p.add_argument("--vat-weight", type=float, default=1.0)
    p.add_argument("--init-lm", default=None, help=".npz from lm_pretrain.py: embedding + both LSTMs")
    p.add_argument("--freeze-epochs", type=int, default=0, help="train only the head this many epochs first")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--patience", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1337)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    korean = args.dataset != "imdb"
    args.tokenizer = args.tokenizer or ("kiwi" if korean else "english")
    args.max_length = args.max_length or (80 if korean else 400)
    started = time.perf_counter()
    data, matrix = prepare(
        args.dataset,
        args.tokenizer,
        args.tokenizer_options,
        vocab_size=args.vocab_size,
        max_length=args.max_length,
        train_subset=args.train_subset,
        word2vec=not args.no_word2vec,
        embedding_dim=args.embedding_dim,
        seed=args.seed,
    )
    prep_seconds = time.perf_counter() - started
    print(
        f"prepared in {prep_seconds:.0f}s {data.seconds}; train {len(data.train_ids)} val {len(data.val_ids)} "
        f"vocab {data.vocab_size}; mean length {np.mean([len(s) for s in data.train_ids]):.1f}",
        flush=True,
    )

    model = ResearchNet(args, data.vocab_size, data.token_counts)
    if matrix is not None:
        model.embedding.embeddings.assign(matrix)
    if args.init_lm:
        model(tf.constant([[2, 3]], dtype="int32"))  # build the layers
        lm = np.load(args.init_lm)
        model.embedding.embeddings.assign(lm["embedding"])
        layer = model.bilstms[0]
        layer.forward_layer.set_weights([lm[f"fwd_{i}"] for i in range(3)])
        layer.backward_layer.set_weights([lm[f"bwd_{i}"] for i in range(3)])
    encoder = [*([] if args.freeze_embedding else [model.embedding]), *model.bilstms]
    steps = int(np.ceil(len(data.train_ids) / args.batch_size)) * args.epochs
    lr = args.learning_rate
    if args.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, warmup_target=None)
    if args.optimizer == "adamw":
        optimizer = keras.optimizers.AdamW(lr, weight_decay=args.weight_decay, clipnorm=args.clipnorm)
    else:
        optimizer = keras.optimizers.Adam(lr, clipnorm=args.clipnorm)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=args.label_smoothing),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)],
    )
    model(tf.constant([[2, 3]], dtype="int32"))
    if args.freeze_embedding:
        model.embedding.trainable = False
    optimizer.build(model.trainable_variables)  # every variable, also those frozen at first
    batching = {"batch_size": args.batch_size, "seed": args.seed, "bucketing": True}
    train_data = training_dataset(data.train_ids, data.train_labels, **batching)
    val_data = training_dataset(data.val_ids, data.val_labels, **{**batching, "batch_size": 512})

    epochs: list[dict] = []
    best = (-1.0, 0)
    for epoch in range(1, args.epochs + 1):
        if args.freeze_epochs and epoch in (1, args.freeze_epochs + 1):
            for layer in encoder:
                layer.trainable = epoch > args.freeze_epochs
            model.train_function = None  # retrace with the new trainable variables
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        hist = model.fit(train_data, epochs=1, verbose=0, shuffle=False)
        train_seconds = time.perf_counter() - t0
        val = model.evaluate(val_data, verbose=0, return_dict=True)
        row = {
            "epoch": epoch,
            "train_loss": float(hist.history["loss"][-1]),
            "train_accuracy": float(hist.history["accuracy"][-1]),
            "val_loss": float(val["loss"]),
            "val_accuracy": float(val["accuracy"]),
            "seconds": time.perf_counter() - t0,
            "train_seconds": train_seconds,
            "cpu_seconds": time.process_time() - cpu0,
            "load_average": load_average(),
        }
        epochs.append(row)
        print(json.dumps(row), flush=True)
        if row["val_accuracy"] > best[0]:
            best = (row["val_accuracy"], epoch)
        elif epoch - best[1] >= args.patience:
            break
    best_row = epochs[best[1] - 1]
    result = {
        "name": args.name,
        "command": "python benchmarks/research/bilstm_research.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "args": vars(args),
        "best_epoch": best[1],
        "best_val_accuracy": best_row["val_accuracy"],
        "best_val_loss": best_row["val_loss"],
        "min_val_loss": min(r["val_loss"] for r in epochs),
        "mean_epoch_seconds": float(np.mean([r["seconds"] for r in epochs])),
        "prepare_seconds": prep_seconds,
        "prepare": data.seconds,
        "counts": {"train": len(data.train_ids), "validation": len(data.val_ids), "vocab": data.vocab_size},
        "epochs": epochs,
    }
    path = save_result(args.name, result)
    print(
        f"BEST {args.name}: val_acc {result['best_val_accuracy']:.4f} (epoch {best[1]}), "
        f"val_loss {result['best_val_loss']:.4f}, {result['mean_epoch_seconds']:.0f} s/epoch -> {path}",
        flush=True,
    )
    return result


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # TensorFlow's tf.data threads sometimes hang the interpreter's exit under load
