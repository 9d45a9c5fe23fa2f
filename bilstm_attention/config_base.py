"""Dict round trips shared by the configuration dataclasses."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

from bilstm_attention.errors import ConfigError

T = TypeVar("T", bound="DictConfig")


class DictConfig:
    """Mixin for configuration dataclasses: ``to_dict`` and a ``from_dict`` that names
    unknown keys instead of failing with a ``TypeError``."""

    config_kind: ClassVar[str] = "configuration"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], values: dict[str, Any]) -> T:
        """Build from a dict (e.g. a run's ``run.json``); unknown keys raise :class:`ConfigError`."""
        known = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"unknown {cls.config_kind} option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**values)
