"""Former home of the format readers (kept for imports): see :mod:`bilstm_attention.data.formats`."""

from bilstm_attention.data.formats import READER_VERSION
from bilstm_attention.data.formats.delimited import (
    iter_rows,
    preview,
    read_registry_table,
    separator_name,
)
from bilstm_attention.data.formats.imdb import ImdbRead, read_imdb
from bilstm_attention.data.splits import Records

__all__ = [
    "READER_VERSION",
    "ImdbRead",
    "Records",
    "iter_rows",
    "preview",
    "read_imdb",
    "read_registry_table",
    "separator_name",
]
