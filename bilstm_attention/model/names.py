"""Names of the classifier's inputs and key layers (no Keras import: anything may read them)."""

from __future__ import annotations

#: The token-id input.
TOKEN_INPUT_NAME = "token_ids"
#: The n-gram-id input of the wide-and-deep model.
NGRAM_INPUT_NAME = "ngram_ids"
#: The token embedding (``Embedding`` or ``NormalizedEmbedding``).
EMBEDDING_LAYER_NAME = "embedding"
#: The attention layer, whose second output is the attention weights.
ATTENTION_LAYER_NAME = "attention"
#: The layer giving the probabilities.
OUTPUT_LAYER_NAME = "probability"
