"""From token ids to what the models read: the classifier's inputs, n-grams, batches.

- :mod:`~bilstm_attention.features.inputs`: truncation, vocabulary clipping and the
  :class:`FeatureSpec` that turns token ids into model inputs, the same in training and at
  inference;
- :mod:`~bilstm_attention.features.ngrams`: the n-gram vocabulary of the linear (NB-LR) part;
- :mod:`~bilstm_attention.features.nblr`: the NB-weighted logistic regression (and its self-training
  with unlabeled reviews) and the mix weight;
- :mod:`~bilstm_attention.features.word2vec`: word2vec starting vectors for the embedding;
- :mod:`~bilstm_attention.features.padding`: the padded lengths of compiled shapes;
- :mod:`~bilstm_attention.features.pipeline`: the ``tf.data`` batches (needs TensorFlow).

The names of :mod:`~bilstm_attention.features.inputs` are importable from here (this was the
module ``bilstm_attention.features`` before it became a package).
"""

from bilstm_attention.features.inputs import (
    TRUNCATION_CHOICES,
    FeatureSpec,
    ModelInputs,
    clip_vocabulary,
    kept_slices,
    truncate,
)

__all__ = ["TRUNCATION_CHOICES", "FeatureSpec", "ModelInputs", "clip_vocabulary", "kept_slices", "truncate"]
