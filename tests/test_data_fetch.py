"""Downloads (against an http.server on 127.0.0.1 started here, and file:// URLs), checksum
verification of downloads, and where downloaded files go."""

from __future__ import annotations

import functools
import http.server
import sys
import threading
import warnings
from pathlib import Path
from typing import ClassVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.data import load_dataset
from bilstm_attention.data.digests import file_digest
from bilstm_attention.data.fetch import download, ensure_file
from bilstm_attention.data.registry import Checksum
from bilstm_attention.errors import ChecksumError, DatasetNotFoundError, DownloadError

FIXTURES = fx.HERE


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only a few bytes")
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture()
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``<tmp>/served``; yields (base URL, folder)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served, handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_download_with_the_right_checksum_keeps_the_file(server, tmp_path):
    base, served, _ = server
    payload = (FIXTURES / "tiny_steam.txt").read_bytes()
    (served / "steam.txt").write_bytes(payload)
    target = tmp_path / "out" / "steam.txt"
    got = download(
        f"{base}/steam.txt",
        target,
        checksum=Checksum("git_blob", fx.git_blob_of(FIXTURES / "tiny_steam.txt")),
        size=len(payload),
        progress=True,
    )
    assert got == target and target.read_bytes() == payload
    assert leftovers(target.parent) == []
    assert file_digest(target) == fx.sha256_of(target)


def test_download_with_a_wrong_checksum_is_removed_and_reported(server, tmp_path):
    base, served, _ = server
    (served / "ratings_train.txt").write_bytes(b"id\tdocument\tlabel\n1\ttampered\t1\n")
    target = tmp_path / "out" / "ratings_train.txt"
    wrong = "a" * 64
    with pytest.raises(
        ChecksumError,
        match=rf"downloaded {base}/ratings_train\.txt: sha256 "
        rf"{fx.sha256_of(served / 'ratings_train.txt')} differs from the "
        rf"registry's {wrong}; the download was deleted",
    ):
        download(f"{base}/ratings_train.txt", target, checksum=Checksum("sha256", wrong), progress=False)
    assert not target.exists()
    assert leftovers(target.parent) == []


def test_download_with_a_wrong_size_is_removed_and_reported(server, tmp_path):
    base, served, _ = server
    (served / "f.txt").write_bytes(b"0123456789")
    target = tmp_path / "f.txt"
    with pytest.raises(ChecksumError, match=r"f\.txt: 10 bytes, but the registry expects 11; the download was deleted"):
        download(f"{base}/f.txt", target, checksum=None, size=11, progress=False)
    assert not target.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing.txt", r"downloading http://127\.0\.0\.1:\d+/missing\.txt failed: HTTP 404"),
        ("/short", r"downloading http://127\.0\.0\.1:\d+/short (ended early: got 16 of 1,000 bytes|failed after)"),
    ],
)
def test_download_failures(server, tmp_path, path, message):
    base, _, _ = server
    with pytest.raises(DownloadError, match=message):
        download(f"{base}{path}", tmp_path / "x.txt", checksum=None, progress=False)
    assert not (tmp_path / "x.txt").exists() and leftovers(tmp_path) == []


def test_unreachable_network_is_a_download_error(tmp_path):
    import socket

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadError, match=rf"downloading http://127\.0\.0\.1:{port}/x failed: .*refused"):
        download(f"http://127.0.0.1:{port}/x", tmp_path / "x", checksum=None, progress=False, timeout=5)


def test_file_urls_work(tmp_path):
    source = FIXTURES / "tiny_shopping.txt"
    target = download(
        source.resolve().as_uri(),
        tmp_path / "copy.txt",
        checksum=Checksum("sha256", fx.sha256_of(source)),
        progress=False,
    )
    assert target.read_bytes() == source.read_bytes()


def test_load_downloads_missing_files_into_the_data_dir_once(server, tmp_path):
    base, served, handler = server
    (served / "tiny_steam.txt").write_bytes((FIXTURES / "tiny_steam.txt").read_bytes())
    data = fx.registry_data()
    data["datasets"]["tiny_steam"]["files"]["all"]["url"] = f"{base}/tiny_steam.txt"
    spec = fx.write_registry(tmp_path / "r.yaml", data).get("tiny_steam")
    data_dir = tmp_path / "datasets"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = load_dataset(spec, data_dir, progress=False)
        second = load_dataset(spec, data_dir, progress=False)
    assert (data_dir / "tiny_steam" / "tiny_steam.txt").read_bytes() == (served / "tiny_steam.txt").read_bytes()
    assert handler.requests == ["/tiny_steam.txt"]  # the second load used the local copy
    assert first.fingerprint == second.fingerprint
    assert first.report.skipped_lines == {"all": [9]}  # byte-exact, so the known defect is skipped


def test_load_reports_a_bad_download_and_keeps_nothing(server, tmp_path):
    base, served, _ = server
    (served / "ratings_train.txt").write_bytes(b"id\tdocument\tlabel\n1\tnot the real file\t1\n")
    data = fx.registry_data()
    data["datasets"]["tiny_nsmc"]["files"]["train"]["url"] = f"{base}/ratings_train.txt"
    spec = fx.write_registry(tmp_path / "r.yaml", data).get("tiny_nsmc")
    data_dir = tmp_path / "datasets"
    with pytest.raises(ChecksumError, match=r"ratings_train\.txt: sha256 [0-9a-f]{64} differs from the registry's"):
        load_dataset(spec, data_dir, progress=False)
    assert not (data_dir / "tiny_nsmc" / "ratings_train.txt").exists()
    assert leftovers(data_dir / "tiny_nsmc") == []


def test_download_failure_in_load_says_where_it_looked(server, tmp_path):
    base, _, _ = server
    data = fx.registry_data()
    data["datasets"]["tiny_steam"]["files"]["all"]["url"] = f"{base}/gone.txt"
    spec = fx.write_registry(tmp_path / "r.yaml", data).get("tiny_steam")
    with pytest.raises(DatasetNotFoundError) as info:
        ensure_file(spec, spec.file("all"), tmp_path / "d", progress=False)
    message = str(info.value)
    assert "file tiny_steam.txt is missing (downloading" in message and "HTTP 404" in message
    assert str(tmp_path / "d" / "tiny_steam" / "tiny_steam.txt") in message
    assert isinstance(info.value, DownloadError)


def test_a_file_without_url_cannot_be_downloaded(tmp_path):
    spec = fx.write_registry(tmp_path / "r.yaml", fx.registry_data()).get("tiny_shopping")
    with pytest.raises(DatasetNotFoundError, match=r"tiny_shopping\.txt is missing \(it has no download URL\)"):
        load_dataset(spec, tmp_path / "nothing-here", progress=False)


def test_nothing_is_written_when_the_server_cannot_be_reached(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = tmp_path / "new-folder" / "x.txt"
    with pytest.raises(DownloadError):
        download(f"http://127.0.0.1:{port}/x.txt", target, checksum=None, progress=False, timeout=5)
    assert not target.parent.exists()


def test_a_read_only_data_dir_is_searched_but_not_downloaded_into(server, tmp_path, monkeypatch):
    import os

    base, served, _ = server
    (served / "tiny_steam.txt").write_bytes((FIXTURES / "tiny_steam.txt").read_bytes())
    data = fx.registry_data()
    data["datasets"]["tiny_steam"]["files"]["all"]["url"] = f"{base}/tiny_steam.txt"
    spec = fx.write_registry(tmp_path / "r.yaml", data).get("tiny_steam")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o555)  # like ../shared/datasets
    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "cache"))
    try:
        splits = load_dataset(spec, shared, progress=False)
    finally:
        shared.chmod(0o755)
    assert splits.source_files[0].path == tmp_path / "cache" / "datasets" / "tiny_steam" / "tiny_steam.txt"
    assert list(shared.iterdir()) == []
    assert os.stat(splits.source_files[0].path).st_mode & 0o044  # not private like a mkstemp file
