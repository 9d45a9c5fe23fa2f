"""Exception types raised by bilstm_attention.

Every error a user can cause derives from :class:`BilstmAttentionError`, so the command line
can print the message (which names the file, line or argument at fault) instead of a
traceback.
"""

from __future__ import annotations


class BilstmAttentionError(Exception):
    """Base class of the errors this package raises for bad input or missing resources."""


class ConfigError(BilstmAttentionError, ValueError):
    """An argument or configuration value is invalid (names the argument)."""


class DataError(BilstmAttentionError, ValueError):
    """A data file is malformed (names the file, and the line where known)."""


class DatasetNotFoundError(BilstmAttentionError, FileNotFoundError):
    """A dataset file is missing locally and could not be downloaded."""


class ChecksumError(DataError):
    """A file's digest differs from the one recorded in the registry."""


class ModelLoadError(BilstmAttentionError):
    """A run directory or model file is missing, corrupted or from an incompatible version."""


class RunDirectoryExistsError(BilstmAttentionError, FileExistsError):
    """A run directory exists already and would be overwritten."""


class RunInUseError(BilstmAttentionError):
    """Another process is training in this run directory (it holds the directory's lock)."""


class RunFinishedError(BilstmAttentionError):
    """``--resume`` was asked for a run that finished already (nothing to continue)."""


class TruncatedArchiveError(DataError):
    """An archive ends early or is corrupted (names the archive and how far it could be read)."""


class UnsafeArchiveError(DataError):
    """An archive member would be written outside the extraction folder (absolute path, ``..``,
    a link pointing outside, a device file)."""


class DownloadError(DatasetNotFoundError):
    """A dataset file could not be downloaded (names the URL, the file and the reason)."""


class DataWarning(UserWarning):
    """Something about a data file worth knowing that does not stop loading it (for example a
    local copy whose checksum differs from upstream but whose structure checks pass)."""


class MissingDependencyError(BilstmAttentionError, ImportError):
    """An optional dependency is not installed; the message names the extra to install
    (``pip install "bilstm-attention[train]"``)."""
