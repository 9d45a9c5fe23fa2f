"""Settings of the HTTP server (no third-party imports: the CLI reads the defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from bilstm_attention.errors import ConfigError


@dataclass(frozen=True)
class ServerConfig:
    """Where the server listens, its request limits and its batching.

    Attributes:
        host: address to listen on (``127.0.0.1``: this machine only).
        port: TCP port (0: any free port).
        max_texts: most texts in one ``/predict`` request (more: 413).
        max_chars: most characters in one text (more: 413).
        max_body_bytes: largest request body (more: 413).
        max_batch: most texts the batcher hands the model in one call.
        batch_wait_ms: how long the batcher waits for further requests to fill a batch.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    max_texts: int = 256
    max_chars: int = 20_000
    max_body_bytes: int = 2_000_000
    max_batch: int = 64
    batch_wait_ms: float = 5.0

    def __post_init__(self) -> None:
        for name in ("max_texts", "max_chars", "max_body_bytes", "max_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535, got {self.port!r}")
        if not isinstance(self.batch_wait_ms, (int, float)) or not 0 <= self.batch_wait_ms <= 1000:
            raise ConfigError(f"batch_wait_ms must be between 0 and 1000, got {self.batch_wait_ms!r}")
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(f"host must be a non-empty string, got {self.host!r}")
