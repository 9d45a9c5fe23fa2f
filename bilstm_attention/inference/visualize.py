"""Token-level attention heatmaps: a PNG/SVG/PDF picture (matplotlib) or an HTML snippet."""

from __future__ import annotations

import html
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bilstm_attention._optional import require
from bilstm_attention.errors import ConfigError
from bilstm_attention.fileio import atomic_path

if TYPE_CHECKING:
    from bilstm_attention.inference.sentiment_model import Explanation

#: Font families with Hangul glyphs, most preferred first (Nanum is what Colab users install).
HANGUL_FONTS: tuple[str, ...] = (
    "NanumGothic",
    "NanumBarunGothic",
    "NanumSquare",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Noto Sans CJK JP",
    "UnDotum",
    "Baekmuk Gulim",
    "Malgun Gothic",
    "AppleGothic",
)
PICTURE_SUFFIXES = (".png", ".svg", ".pdf")
#: Tokens a heatmap draws at most (a review of 200,000 tokens would make a picture of
#: tens of megabytes): those with the most attention, in reading order.
MAX_SHOWN_TOKENS = 300
#: Characters of one token drawn at most (longer ones end in "…").
MAX_TOKEN_CHARS = 40
GAP = "…"
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def hangul_font() -> str | None:
    """The first installed font family of :data:`HANGUL_FONTS`, or ``None``.

    Fonts installed after matplotlib built its font cache (``apt-get install fonts-nanum``
    in a running notebook) are registered on the fly, so no restart is needed.
    """
    from matplotlib import font_manager

    def find() -> str | None:
        installed = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in HANGUL_FONTS if name in installed), None)

    found = find()
    if found is None:
        for path in font_manager.findSystemFonts():
            if any(key in Path(path).name for key in ("Nanum", "NotoSansCJK", "NotoSansKR", "UnDotum", "Baekmuk")):
                font_manager.fontManager.addfont(path)
        found = find()
    return found


def _font_family(tokens: Sequence[str]) -> list[str]:
    if not any(_HANGUL.search(token) for token in tokens):
        return ["DejaVu Sans"]
    font = hangul_font()
    if font is None:
        warnings.warn(
            "no font with Hangul glyphs is installed, Korean tokens will show as boxes; install "
            "one (Debian/Ubuntu/Colab: `apt-get install fonts-nanum`, then restart Python)",
            stacklevel=3,
        )
        return ["DejaVu Sans"]
    return [font, "DejaVu Sans"]


def shown_tokens(explanation: Explanation, max_tokens: int = MAX_SHOWN_TOKENS) -> list[tuple[str, float]]:
    """The ``(token, weight)`` pairs a heatmap draws: every token when there are at most
    ``max_tokens``, else the ``max_tokens`` with the largest weights in reading order, with a
    ``"…"`` (weight 0) where tokens were left out. Tokens longer than
    :data:`MAX_TOKEN_CHARS` characters are cut and end in ``"…"``.

    Raises:
        ConfigError: ``max_tokens`` is not a positive integer.
    """
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ConfigError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    tokens, weights = explanation.tokens, explanation.weights

    def cut(token: str) -> str:
        return token if len(token) <= MAX_TOKEN_CHARS else token[: MAX_TOKEN_CHARS - 1] + GAP

    if len(tokens) <= max_tokens:
        return [(cut(token), float(weight)) for token, weight in zip(tokens, weights)]
    import numpy as np

    keep = np.sort(np.argsort(-np.asarray(weights, dtype=float), kind="stable")[:max_tokens])
    shown: list[tuple[str, float]] = []
    previous = -1
    for index in keep.tolist():
        if index != previous + 1:
            shown.append((GAP, 0.0))
        shown.append((cut(tokens[index]), float(weights[index])))
        previous = index
    if previous != len(tokens) - 1:
        shown.append((GAP, 0.0))
    return shown


def heading(explanation: Explanation) -> str:
    """``label (probability)``; for an ensemble also the BiLSTM's own probability and share,
    since the attention shown belongs to the BiLSTM alone."""
    text = f"{explanation.label} ({explanation.probability:.3f})"
    if explanation.bilstm_probability is not None:
        text += (
            f"   attention of the BiLSTM part: P(positive) {explanation.bilstm_probability:.3f},"
            f" weight {explanation.bilstm_weight:.2f} in the average"
        )
    return text


def save_heatmap(
    explanation: Explanation,
    path: str | Path,
    *,
    width: float = 10.0,
    overwrite: bool = False,
    max_tokens: int = MAX_SHOWN_TOKENS,
) -> Path:
    """Draw the tokens of ``explanation`` shaded by attention weight and save the picture.

    ``.png``, ``.svg`` and ``.pdf`` write a matplotlib figure; ``.html`` writes
    :func:`heatmap_html`. The file is written atomically. At most ``max_tokens`` tokens are
    drawn (see :func:`shown_tokens`), so a long review gives a picture of bounded size.

    Raises:
        ConfigError: an unsupported suffix, or ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*PICTURE_SUFFIXES, ".html"):
        raise ConfigError(f"cannot write {path}: the heatmap file must end in .png, .svg, .pdf or .html")
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} exists; choose another file name (nothing was overwritten)")
    if suffix == ".html":
        with atomic_path(path) as tmp:
            tmp.write_text(heatmap_html(explanation, standalone=True, max_tokens=max_tokens), encoding="utf-8")
        return path
    figure = heatmap_figure(explanation, width=width, max_tokens=max_tokens)
    plt = require("matplotlib.pyplot", "plots")

    try:
        with atomic_path(path, suffix=suffix) as tmp:
            figure.savefig(tmp, dpi=150, bbox_inches="tight", format=suffix[1:])
    finally:
        plt.close(figure)
    return path


def heatmap_figure(explanation: Explanation, *, width: float = 10.0, max_tokens: int = MAX_SHOWN_TOKENS):  # -> Figure
    """A matplotlib figure: tokens in reading order, each on a box shaded by its weight
    (at most ``max_tokens`` of them, see :func:`shown_tokens`)."""
    matplotlib = require("matplotlib", "plots")
    plt = require("matplotlib.pyplot", "plots")
    from matplotlib import cm, colors

    pairs = shown_tokens(explanation, max_tokens)
    tokens = [token for token, _ in pairs]
    weights = [weight for _, weight in pairs]
    family = _font_family(tokens)
    top = max(weights) if weights else 1.0
    norm = colors.Normalize(vmin=0.0, vmax=top if top > 0 else 1.0)
    cmap = matplotlib.colormaps["Reds"]

    figure = plt.figure(figsize=(width, 1.0))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    renderer = figure.canvas.get_renderer()
    # Lay the tokens out in pixels at the figure's dpi (bbox padding included), then place
    # them in figure fractions so the picture looks the same at any output dpi.
    pad_px = 0.3 * 12 * figure.dpi / 72
    figure_width_px = figure.get_figwidth() * figure.dpi
    line_height_px = 0.0
    x_px, y_px, margin_px, gap_px = 8.0, 0.0, 8.0, 4.0
    placed = []
    for token, weight in zip(tokens, weights):
        shade = norm(weight)
        text = axes.text(
            0,
            0,
            token or "∅",
            fontsize=12,
            family=family,
            va="top",
            ha="left",
            parse_math=False,
            color="white" if shade > 0.6 else "black",
            bbox={"boxstyle": "round,pad=0.3", "facecolor": cmap(shade), "edgecolor": "none"},
            transform=None,
        )
        extent = text.get_window_extent(renderer)
        box_width = extent.width + 2 * pad_px
        if x_px + box_width > figure_width_px - margin_px and x_px > margin_px:
            x_px = margin_px
            y_px += line_height_px + 2 * pad_px + gap_px
        placed.append((text, x_px + pad_px, y_px))
        x_px += box_width + gap_px
        line_height_px = max(line_height_px, extent.height)
    rows_height_px = y_px + line_height_px + 2 * pad_px + 80
    figure.set_figheight(rows_height_px / figure.dpi)
    height_px = figure.get_figheight() * figure.dpi
    for text, x, y in placed:
        text.set_transform(figure.transFigure)
        text.set_position((x / figure_width_px, (height_px - 66 - y) / height_px))
    title = heading(explanation)
    figure.text(0.01, 1 - 12 / height_px, title, fontsize=13, va="top", family=family, parse_math=False)
    mappable = cm.ScalarMappable(norm=norm, cmap=cmap)
    colorbar_axes = figure.add_axes((0.72, 1 - 30 / height_px, 0.25, 12 / height_px))
    colorbar = figure.colorbar(mappable, cax=colorbar_axes, orientation="horizontal")
    colorbar.set_label("attention weight", fontsize=8)
    colorbar.ax.xaxis.set_label_position("top")
    colorbar.ax.tick_params(labelsize=7)
    return figure


def heatmap_html(explanation: Explanation, *, standalone: bool = False, max_tokens: int = MAX_SHOWN_TOKENS) -> str:
    """HTML with one ``<span>`` per token whose background darkens with its weight (at most
    ``max_tokens`` of them, see :func:`shown_tokens`)."""
    pairs = shown_tokens(explanation, max_tokens)
    top = max((weight for _, weight in pairs), default=1.0)
    spans = []
    for token, weight in pairs:
        alpha = weight / top if top > 0 else 0.0
        spans.append(
            f'<span title="{weight:.4f}" style="background: rgba(220, 38, 38, {alpha:.3f}); '
            f'padding: 1px 3px; margin: 1px; border-radius: 3px">{html.escape(token)}</span>'
        )
    body = (
        f'<div style="font-family: sans-serif; line-height: 1.9"><b>{html.escape(heading(explanation))}'
        f"</b><br>{' '.join(spans)}</div>"
    )
    if not standalone:
        return body
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>attention</title></head><body>{body}</body></html>\n'
