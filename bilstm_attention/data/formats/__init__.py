"""One module per file format: ``delimited`` (NSMC, Steam, Naver shopping: registry tables),
``imdb`` (the IMDB archive or its extracted folder, its parsed-archive cache, the optional
tensorflow-datasets source) and ``user_file`` (a user's own CSV/TSV, :func:`load_file`).

Every problem raises :class:`~bilstm_attention.errors.DataError` naming the file and the
line (or archive member) and what was expected.
"""

#: Bumped whenever a change to the readers changes what is read (part of every fingerprint).
READER_VERSION = 1
