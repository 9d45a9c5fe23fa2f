"""Where dataset files live: data directories, downloads, archive extraction.

Resolution order for a registry file ``<name>/<filename>``:

1. the explicit ``data_dir`` argument (CLI ``--data-dir``),
2. the directory in the environment variable ``BILSTM_ATTENTION_DATA``,
3. the user cache, ``default_cache_dir() / "datasets"``.

In each directory the file is looked for as ``<dir>/<name>/<filename>`` and then
``<dir>/<filename>``. If it is nowhere, it is downloaded (when allowed) into the first of
these directories that is writable (a read-only shared copy is skipped), as
``<dir>/<name>/<filename>``: the server is contacted first (without a network nothing is
written), the bytes are streamed to a temporary file in the same folder with a progress bar,
the size and checksum are verified, and only then is the file renamed into place. A download
whose size or checksum is wrong is deleted and reported (:class:`ChecksumError`).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import posixpath
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bilstm_attention.data.digests import file_digest, remember_digest
from bilstm_attention.data.registry import Checksum, DatasetSpec, FileSpec
from bilstm_attention.errors import (
    ChecksumError,
    ConfigError,
    DatasetNotFoundError,
    DownloadError,
    TruncatedArchiveError,
    UnsafeArchiveError,
)
from bilstm_attention.fileio import file_mode

DATA_ENV = "BILSTM_ATTENTION_DATA"
CACHE_ENV = "BILSTM_ATTENTION_CACHE"
DOWNLOAD_TIMEOUT = 60.0
_CHUNK = 1 << 16


def default_cache_dir() -> Path:
    """``$BILSTM_ATTENTION_CACHE``, else ``$XDG_CACHE_HOME/bilstm_attention``, else
    ``~/.cache/bilstm_attention``. Encoded arrays go to ``<it>/encoded``, downloads to
    ``<it>/datasets``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "bilstm_attention"


@dataclass(frozen=True)
class DataRoot:
    path: Path
    origin: str  # "data_dir", "$BILSTM_ATTENTION_DATA", "user cache"


def data_roots(data_dir: str | os.PathLike[str] | None = None) -> list[DataRoot]:
    """The directories searched for dataset files, in order."""
    roots: list[DataRoot] = []
    if data_dir is not None:
        roots.append(DataRoot(Path(data_dir).expanduser(), "data_dir"))
    env = os.environ.get(DATA_ENV)
    if env:
        roots.append(DataRoot(Path(env).expanduser(), f"${DATA_ENV}"))
    roots.append(DataRoot(default_cache_dir() / "datasets", "user cache"))
    unique: list[DataRoot] = []
    for root in roots:
        if all(root.path != other.path for other in unique):
            unique.append(root)
    return unique


def is_writable(path: Path) -> bool:
    """Whether files can be created under ``path``: its nearest existing folder is writable
    for us and not marked read-only (no write bit at all, as for a shared read-only copy;
    this also holds back root, for whom ``os.access`` is always true)."""
    path = Path(path)
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return path.is_dir() and os.access(path, os.W_OK) and bool(mode & 0o222)


def download_root(data_dir=None) -> DataRoot:
    """Where missing files are downloaded to: the first writable data root (``data_dir``,
    ``$BILSTM_ATTENTION_DATA``, the user cache)."""
    roots = data_roots(data_dir)
    for root in roots:
        if is_writable(root.path):
            return root
    return roots[-1]


def candidates(spec: DatasetSpec, name: str, roots: Iterable[DataRoot]) -> list[Path]:
    """``<root>/<dataset>/<name>`` then ``<root>/<name>`` for every root."""
    out: list[Path] = []
    for root in roots:
        out.append(root.path / spec.name / name)
        out.append(root.path / name)
    return out


def find_file(spec: DatasetSpec, file: FileSpec, data_dir=None) -> tuple[Path | None, list[Path]]:
    """The first existing candidate of ``file`` or, for an archive, of its extracted folder
    (``extracted_dir``), or ``None``; and every place looked at."""
    roots = data_roots(data_dir)
    looked = candidates(spec, file.filename, roots)
    found = next((path for path in looked if path.is_file()), None)
    if found is None and file.extracted_dir:  # e.g. <root>/<dataset>/aclImdb/
        found = next((path for path in candidates(spec, file.extracted_dir, roots) if path.is_dir()), None)
    return found, looked


def missing_file_message(spec: DatasetSpec, file: FileSpec, looked: list[Path], reason: str) -> str:
    places = "\n".join(f"  {p}" for p in looked)
    how = [
        f"put {file.filename} into one of those folders (e.g. {looked[0]})",
        "or pass data_dir=... (CLI --data-dir DIR) or set $" + DATA_ENV + " to a folder holding "
        f"{spec.name}/{file.filename}",
    ]
    if file.url:
        how.insert(0, f"download it from {file.url}")
    if spec.format.type == "delimited" and len(spec.files) == 1:
        how.append(f"or load a file in the same format with load_dataset({spec.name!r}, path=...)")
    return (
        f"dataset {spec.name!r}: file {file.filename} is missing ({reason}).\nLooked in:\n{places}\n"
        "To provide it: " + "; ".join(how) + "."
    )


# ------------------------------------------------------------------------------ download


def _progress_bar(total: int | None, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not enabled, leave=False)


def download(
    url: str,
    destination: str | os.PathLike[str],
    *,
    checksum: Checksum | None,
    size: int | None = None,
    progress: bool = True,
    timeout: float = DOWNLOAD_TIMEOUT,
) -> Path:
    """Download ``url`` to ``destination`` atomically, verifying ``size`` and ``checksum``.

    The bytes go to a temporary file next to ``destination`` (with a tqdm progress bar);
    only a complete download with the right size and checksum is renamed into place. A
    wrong download is deleted and :class:`ChecksumError` names the URL and both digests.
    Network failures raise :class:`DownloadError`.
    """
    from bilstm_attention.version import __version__

    destination = Path(destination)
    request = urllib.request.Request(url, headers={"User-Agent": f"bilstm-attention/{__version__}"})
    # connect first: without a network nothing is written anywhere
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # URLs come from the registry
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"downloading {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (TimeoutError, urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"downloading {url} failed: {reason}") from None
    with response:
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
        except OSError as exc:
            raise DownloadError(f"cannot write {destination} to download {url}: {exc.strerror or exc}") from None
        tmp = Path(tmp_name)
        sha256 = hashlib.sha256()
        received = 0
        try:
            os.chmod(tmp, file_mode())
            with os.fdopen(fd, "wb") as out:
                length = response.headers.get("Content-Length") if hasattr(response, "headers") else None
                total = int(length) if length and length.isdigit() else size
                with _progress_bar(total, destination.name, progress) as bar:
                    while True:
                        try:
                            chunk = response.read(_CHUNK)
                        except (TimeoutError, OSError, http.client.HTTPException) as exc:
                            raise DownloadError(f"downloading {url} failed after {received:,} bytes: {exc}") from None
                        if not chunk:
                            break
                        out.write(chunk)
                        sha256.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                if length and length.isdigit() and received != int(length):
                    raise DownloadError(
                        f"downloading {url} ended early: got {received:,} of {int(length):,} bytes; try again"
                    )
                out.flush()
                os.fsync(out.fileno())
            if size is not None and received != size:
                raise ChecksumError(
                    f"downloaded {url}: {received:,} bytes, but the registry expects {size:,}; "
                    f"the download was deleted (upstream may have changed; check the URL or the registry)"
                )
            if checksum is not None:
                if checksum.algorithm == "sha256":
                    actual = sha256.hexdigest()
                else:
                    actual = file_digest(tmp, checksum.algorithm)
                if actual != checksum.value:
                    raise ChecksumError(
                        f"downloaded {url}: {checksum.algorithm} {actual} differs from the registry's "
                        f"{checksum.value}; the download was deleted ({destination.name} is not the expected file)"
                    )
            os.replace(tmp, destination)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
    remember_digest(destination, "sha256", sha256.hexdigest())
    return destination


def ensure_file(
    spec: DatasetSpec, file: FileSpec, data_dir=None, *, download_missing: bool = True, progress: bool = True
) -> Path:
    """Find ``file`` locally, or download it; raise :class:`DatasetNotFoundError` saying where
    it looked and how to provide it."""
    path, looked = find_file(spec, file, data_dir)
    if path is not None:
        return path
    if not download_missing:
        raise DatasetNotFoundError(missing_file_message(spec, file, looked, "downloading is disabled"))
    if not file.url:
        raise DatasetNotFoundError(missing_file_message(spec, file, looked, "it has no download URL"))
    target = download_root(data_dir).path / spec.name / file.filename
    try:
        return download(file.url, target, checksum=file.checksum, size=file.size, progress=progress)
    except ChecksumError:
        raise
    except DownloadError as exc:
        raise DownloadError(missing_file_message(spec, file, looked, str(exc))) from None


# ------------------------------------------------------------------------------ archives


def _member_problem(member: tarfile.TarInfo) -> str | None:
    """Why an archive member is unsafe to extract, or ``None``."""

    def absolute(path: str) -> bool:
        return path.startswith("/") or (len(path) > 1 and path[1] == ":")

    name = member.name.replace("\\", "/")
    if not member.name or "\x00" in member.name:
        return "empty name or NUL byte"
    if absolute(name):
        return "absolute path"
    if ".." in name.split("/"):
        return "'..' component (path traversal)"
    if member.issym() or member.islnk():
        target = member.linkname.replace("\\", "/")
        if absolute(target):
            return f"link to absolute path {member.linkname!r}"
        base = posixpath.dirname(member.name) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, target))
        if resolved == ".." or resolved.startswith("../"):
            return f"link pointing outside the archive ({member.linkname!r})"
    if member.ischr() or member.isblk() or member.isfifo():
        return "device or FIFO member"
    return None


def check_member(archive: Path, member: tarfile.TarInfo) -> None:
    """Raise :class:`UnsafeArchiveError` for a member that must not be extracted."""
    problem = _member_problem(member)
    if problem is not None:
        raise UnsafeArchiveError(f"{archive}: unsafe member {member.name!r}: {problem}; refusing to use this archive")


def truncated_error(archive: Path, members_read: int, last: str | None, exc: BaseException) -> TruncatedArchiveError:
    where = f"after {members_read:,} members" + (f" (last: {last})" if last else "")
    return TruncatedArchiveError(
        f"{archive} is truncated or corrupted: reading stopped {where}: {exc or type(exc).__name__}. "
        "Delete it and download it again."
    )


ARCHIVE_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


def safe_extract(
    archive: str | os.PathLike[str], destination: str | os.PathLike[str], *, progress: bool = True
) -> Path:
    """Extract a .tar(.gz) into ``destination`` safely and atomically.

    Every member is checked first (no absolute paths, no ``..``, no links leaving the
    archive, no device files); then the members are extracted with ``filter="data"`` (Python
    3.11.4+; an extra safety net) into a temporary folder beside ``destination``, which is
    renamed into place only when extraction completed. ``destination`` must not exist yet.
    """
    archive = Path(archive)
    destination = Path(destination)
    if destination.exists():
        raise ConfigError(f"extraction target {destination} exists already; remove it first")
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".extracting", dir=destination.parent))
    count, last = 0, None
    try:
        from tqdm.auto import tqdm

        with tarfile.open(archive, "r:*") as tar:
            members = []
            try:
                for member in tar:
                    check_member(archive, member)
                    members.append(member)
                    count, last = count + 1, member.name
            except ARCHIVE_ERRORS as exc:
                raise truncated_error(archive, count, last, exc) from None
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            try:
                for member in tqdm(
                    members, desc=f"extracting {archive.name}", unit=" files", disable=not progress, leave=False
                ):
                    tar.extract(member, tmp, **kwargs)
            except getattr(tarfile, "FilterError", ()) as exc:
                raise UnsafeArchiveError(f"{archive}: unsafe member: {exc}") from None
            except ARCHIVE_ERRORS as exc:
                raise truncated_error(archive, count, last, exc) from None
        os.chmod(tmp, file_mode(directory=True))
        os.replace(tmp, destination)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return destination
