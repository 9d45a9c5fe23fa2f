"""Read and validate ``datasets.yaml`` into frozen dataclasses.

Every key of the registry is checked when it is read; a malformed entry raises
:class:`~bilstm_attention.errors.ConfigError` naming the key path (``datasets.nsmc.files.train.sha256``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bilstm_attention._optional import require
from bilstm_attention.data.store import content_key
from bilstm_attention.errors import ConfigError

REGISTRY_VERSION = 1
LANGUAGES = ("en", "ko")
#: Token cap of a user's own file when neither the registry (``defaults.user_file.max_length``)
#: nor the run sets one: a single very long review must not make a run uncapped.
USER_FILE_MAX_LENGTH = 400
FORMAT_TYPES = ("delimited", "imdb_archive")
SPLIT_METHODS = ("upstream", "stratified_hash")
#: what ``split.validation_groups`` may name: ``movie``, the movie of each IMDB review, from
#: aclImdb's ``{train,test}/urls_{pos,neg}.txt``
VALIDATION_GROUPS = ("movie",)
EMPTY_TEXT_POLICIES = ("error", "drop")
QUOTING = ("none", "minimal")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class FrozenDict(dict):
    """A read-only dict: specs stay immutable, yet picklable, copyable and JSON-serialisable."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("registry entries are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self):
        return (FrozenDict, (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda item: str(item[0]))))


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return FrozenDict(mapping)


@dataclass(frozen=True)
class Checksum:
    """An expected digest: ``algorithm`` is ``"sha256"`` or ``"git_blob"`` (git's blob sha1)."""

    algorithm: str
    value: str

    def __str__(self) -> str:
        return f"{self.algorithm} {self.value}"


@dataclass(frozen=True)
class FileSpec:
    """One upstream file of a dataset."""

    role: str
    filename: str
    url: str | None
    size: int | None
    checksum: Checksum | None
    extracted_dir: str | None = None


@dataclass(frozen=True)
class FormatSpec:
    """How the upstream files are laid out."""

    type: str
    encoding: str = "utf-8"
    separator: str = "\t"
    quoting: str = "none"
    header: tuple[str, ...] | None = None
    columns: tuple[str, ...] = ()
    text_column: str | None = None
    key_column: str | None = None
    html_line_breaks: str | None = None

    def describe(self) -> str:
        if self.type == "imdb_archive":
            return "tar.gz of aclImdb/{train,test}/{pos,neg}/{id}_{rating}.txt (or the extracted folder)"
        sep = {"\t": "TAB", ",": "comma"}.get(self.separator, repr(self.separator))
        head = "header " + sep.join(self.header) if self.header else "no header"
        return f"{sep}-separated columns {', '.join(self.columns)}; {head}; quoting {self.quoting}"


@dataclass(frozen=True)
class LabelRule:
    """Which column holds the label and how its raw values map to classes."""

    column: str
    classes: Mapping[str, tuple[str, ...]]
    drop: tuple[str, ...] = ()
    ratings: Mapping[str, tuple[int, int]] = field(default_factory=lambda: _frozen({}))
    unlabeled: str | None = None

    def value_to_class(self, class_names: tuple[str, ...]) -> dict[str, int]:
        return {raw: class_names.index(name) for name, raws in self.classes.items() for raw in raws}

    def describe(self) -> str:
        parts = [f"{name}: {self.column} in {{{', '.join(raws)}}}" for name, raws in self.classes.items()]
        if self.drop:
            parts.append(f"dropped: {', '.join(self.drop)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class SplitSpec:
    """How train and test are formed (and where validation comes from)."""

    method: str
    train: str | None = None
    test: str | None = None
    test_fraction: float | None = None
    seed: int | None = None
    #: hold out whole groups (e.g. ``movie``) for validation instead of single reviews
    validation_groups: str | None = None

    def describe(self) -> str:
        if self.method == "upstream":
            text = "upstream train/test"
        else:
            text = f"stratified {1 - (self.test_fraction or 0):.0%}/{self.test_fraction:.0%}, seed {self.seed}"
        return f"{text}; validation: whole {self.validation_groups}s" if self.validation_groups else text


@dataclass(frozen=True)
class RecipeSpec:
    """A tutorial's ("seed") tokenizer and vocabulary settings."""

    tokenizer: str
    vocab_size: int
    max_length: int
    min_count: int = 1
    tokenizer_options: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))
    stopwords: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry, validated."""

    name: str
    title: str
    description: str
    language: str
    class_names: tuple[str, ...]
    files: tuple[FileSpec, ...]
    format: FormatSpec
    label_rule: LabelRule
    split: SplitSpec
    tokenizer: str | None
    tokenizer_options: Mapping[str, Any]
    vocab_size: int | None
    max_length: int | None
    validation_fraction: float
    validation_seed: int
    limit_test_fraction: float
    limit_seed: int
    structure: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))
    empty_text: str = "error"
    known_empty: Mapping[str, int] = field(default_factory=lambda: _frozen({}))
    known_defects: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: _frozen({}))
    seed_recipe: RecipeSpec | None = None
    homepage: str | None = None
    citation: str | None = None
    aliases: tuple[str, ...] = ()
    tfds_name: str | None = None
    content_hash: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def file(self, role: str) -> FileSpec:
        for spec in self.files:
            if spec.role == role:
                return spec
        raise ConfigError(f"dataset {self.name!r} has no file with role {role!r}")


@dataclass(frozen=True)
class Registry:
    """All dataset entries of one registry file."""

    path: str
    datasets: Mapping[str, DatasetSpec]
    default_tokenizers: Mapping[str, str]
    defaults: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))

    def names(self) -> list[str]:
        return list(self.datasets)

    def get(self, name: str) -> DatasetSpec:
        if not isinstance(name, str):
            raise ConfigError(f"dataset name must be a string, got {type(name).__name__}")
        key = name.strip().lower().replace("-", "_")
        if key in self.datasets:
            return self.datasets[key]
        for spec in self.datasets.values():
            if key in spec.aliases:
                return spec
        raise ConfigError(
            f"unknown dataset {name!r}; available: {', '.join(self.datasets)} "
            "(or load your own file with load_file / --file)"
        )


# ----------------------------------------------------------------------------- validation


class _Reader:
    """Typed access to a YAML mapping that reports the full key path on errors."""

    def __init__(self, data: Any, path: str, source: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: {path or 'top level'} must be a mapping, got {type(data).__name__}")
        self.data = data
        self.path = path
        self.source = source
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.key(name)}: {message}")

    def has(self, name: str) -> bool:
        self.used.add(name)
        return name in self.data and self.data[name] is not None

    def raw(self, name: str, required: bool = True) -> Any:
        self.used.add(name)
        if name not in self.data or self.data[name] is None:
            if required:
                raise self.fail(name, "is required")
            return None
        return self.data[name]

    def str(
        self,
        name: str,
        required: bool = True,
        choices: tuple[str, ...] | None = None,
        blank_ok: bool = False,
        match: str | None = None,
        invalid: str = "",
    ) -> Any:
        """A string; one of ``choices``, or matching the regular expression ``match`` (else ``invalid``)."""
        value = self.raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not (value if blank_ok else value.strip()):
            raise self.fail(name, f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(name, f"must be one of {', '.join(choices)}, got {value!r}")
        if match is not None and not re.match(match, value):
            raise self.fail(name, f"{invalid}, got {value!r}")
        return value

    def int(self, name: str, required: bool = True, minimum: int | None = None) -> Any:
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(name, f"must be >= {minimum}, got {value}")
        return value

    def fraction(self, name: str) -> float:
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise self.fail(name, f"must be a number in [0, 1), got {value!r}")
        return float(value)

    def str_list(self, name: str, required: bool = True, scalars: bool = False) -> Any:
        value = self.raw(name, required)
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise self.fail(name, f"must be a non-empty list, got {value!r}")
        out = []
        for i, item in enumerate(value):
            if scalars and isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or item == "":
                raise self.fail(name, f"item {i} must be a non-empty string, got {item!r}")
            out.append(item)
        return tuple(out)

    def sub(self, name: str) -> _Reader:
        """The required mapping ``name`` (optional ones: ``sub(name) if has(name) else None``)."""
        return _Reader(self.raw(name), self.key(name), self.source)

    def finish(self) -> None:
        unknown = sorted(set(map(str, self.data)) - self.used)
        if unknown:
            raise ConfigError(f"{self.source}: {self.key(unknown[0])}: unknown key (typo?)")


def _parse_file(reader: _Reader, role: str) -> FileSpec:
    filename = reader.str("filename", match=r"(?!\.\.?\Z)[^/\\]+\Z", invalid="must be a bare file name")
    url = reader.str("url", required=False, match=r"(https?|file)://", invalid="must be an http(s):// or file:// URL")
    size = reader.int("size", required=False, minimum=1)
    sha256 = reader.str("sha256", required=False, match=r"[0-9a-f]{64}$", invalid="expected 64 lowercase hex digits")
    git_blob = reader.str(
        "git_blob", required=False, match=r"[0-9a-f]{40}$", invalid="expected 40 lowercase hex digits"
    )
    if sha256 and git_blob:
        raise reader.fail("sha256", "give either sha256 or git_blob, not both")
    if url is not None and not (sha256 or git_blob):
        raise reader.fail("sha256", "a downloadable file needs a checksum (sha256 or git_blob)")
    checksum = Checksum("sha256", sha256) if sha256 else Checksum("git_blob", git_blob) if git_blob else None
    extracted = reader.str("extracted_dir", required=False)
    reader.finish()
    return FileSpec(role, filename, url, size, checksum, extracted)


def _parse_format(reader: _Reader) -> FormatSpec:
    ftype = reader.str("type", choices=FORMAT_TYPES)
    encoding = reader.str("encoding", required=False) or "utf-8"
    try:
        "".encode(encoding)
    except LookupError:
        raise reader.fail("encoding", f"unknown encoding {encoding!r}") from None
    if ftype == "imdb_archive":
        breaks = reader.str("html_line_breaks", required=False, choices=("newline", "space", "keep"))
        reader.finish()
        return FormatSpec(ftype, encoding, html_line_breaks=breaks)
    separator = reader.str("separator", blank_ok=True, match=r"(?s).\Z", invalid="must be one character")
    quoting = reader.str("quoting", required=False, choices=QUOTING) or "none"
    header = reader.raw("header", required=False)
    columns = reader.str_list("columns")
    if len(set(columns)) != len(columns):
        raise reader.fail("columns", f"names must be unique, got {list(columns)}")
    if header is not None:
        header = reader.str_list("header")
        if len(header) != len(columns):
            raise reader.fail("header", f"has {len(header)} names but columns has {len(columns)}")
    text_column = reader.str("text_column")
    if text_column not in columns:
        raise reader.fail("text_column", f"{text_column!r} is not one of the columns {list(columns)}")
    key_column = reader.str("key_column", required=False)
    if key_column is not None and key_column not in columns:
        raise reader.fail("key_column", f"{key_column!r} is not one of the columns {list(columns)}")
    reader.finish()
    return FormatSpec(ftype, encoding, separator, quoting, header, columns, text_column, key_column)


def _parse_label_rule(reader: _Reader, class_names: tuple[str, ...]) -> LabelRule:
    column = reader.str("column")
    classes_reader = reader.sub("classes")
    classes: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for name in classes_reader.data:
        if name not in class_names:
            raise classes_reader.fail(str(name), f"is not one of class_names {list(class_names)}")
        values = classes_reader.str_list(name, scalars=True)
        for value in values:
            if value in seen:
                raise classes_reader.fail(name, f"value {value!r} is also listed under {seen[value]!r}")
            seen[value] = name
        classes[name] = values
    missing = [name for name in class_names if name not in classes]
    if missing:
        raise classes_reader.fail(missing[0], "every class needs its raw label values")
    drop = reader.str_list("drop", required=False, scalars=True) or ()
    for value in drop:
        if value in seen:
            raise reader.fail("drop", f"value {value!r} is also a label of class {seen[value]!r}")
    ratings: dict[str, tuple[int, int]] = {}
    if reader.has("ratings"):
        ratings_reader = reader.sub("ratings")
        for name in ratings_reader.data:
            bounds = ratings_reader.raw(name)
            if (
                name not in class_names
                or not isinstance(bounds, list)
                or len(bounds) != 2
                or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
                or bounds[0] > bounds[1]
            ):
                raise ratings_reader.fail(str(name), f"must be a class name mapped to [low, high], got {bounds!r}")
            ratings[name] = (bounds[0], bounds[1])
    unlabeled = reader.str("unlabeled", required=False)
    reader.finish()
    return LabelRule(column, _frozen(classes), tuple(drop), _frozen(ratings), unlabeled)


def _parse_split(reader: _Reader, fmt: FormatSpec, roles: tuple[str, ...]) -> SplitSpec:
    method = reader.str("method", choices=SPLIT_METHODS)
    groups = reader.str("validation_groups", required=False, choices=VALIDATION_GROUPS)
    if groups is not None and fmt.type != "imdb_archive":
        raise reader.fail("validation_groups", "movie groups come from aclImdb's urls files: format imdb_archive only")
    if method == "upstream":
        train = reader.str("train")
        test = reader.str("test")
        if fmt.type == "delimited":
            for key, role in (("train", train), ("test", test)):
                if role not in roles:
                    raise reader.fail(key, f"{role!r} is not one of the file roles {list(roles)}")
        reader.finish()
        return SplitSpec(method, train=train, test=test, validation_groups=groups)
    fraction = reader.fraction("test_fraction")
    if not 0 < fraction < 1:
        raise reader.fail("test_fraction", f"must be in (0, 1), got {fraction}")
    seed = reader.int("seed", minimum=0)
    if len(roles) != 1:
        raise reader.fail("method", "stratified_hash needs exactly one data file")
    reader.finish()
    return SplitSpec(method, test_fraction=fraction, seed=seed, validation_groups=groups)


def _parse_counts(reader: _Reader, name: str) -> dict[str, Any]:
    """``{part: int}`` or ``{part: {label: int}}`` mappings used by ``structure``."""
    value = reader.raw(name)
    if not isinstance(value, Mapping):
        raise reader.fail(name, "must be a mapping")
    out: dict[str, Any] = {}
    for part, counts in value.items():
        if isinstance(counts, Mapping):
            inner = {}
            for label, count in counts.items():
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise reader.fail(f"{name}.{part}.{label}", f"must be a count, got {count!r}")
                inner[str(label)] = count
            out[str(part)] = _frozen(inner)
        elif isinstance(counts, int) and not isinstance(counts, bool) and counts >= 0:
            out[str(part)] = counts
        else:
            raise reader.fail(f"{name}.{part}", f"must be a count or a mapping of counts, got {counts!r}")
    return out


def _parse_recipe(reader: _Reader) -> RecipeSpec:
    tokenizer = reader.str("tokenizer")
    vocab_size = reader.int("vocab_size", minimum=3)
    max_length = reader.int("max_length", minimum=1)
    min_count = reader.int("min_count", required=False, minimum=1) or 1
    options = reader.raw("tokenizer_options", required=False) or {}
    if not isinstance(options, Mapping):
        raise reader.fail("tokenizer_options", "must be a mapping")
    stopwords = reader.str_list("stopwords", required=False) or ()
    source = reader.str("source", required=False)
    reader.finish()
    return RecipeSpec(tokenizer, vocab_size, max_length, min_count, _frozen(options), stopwords, source)


def _parse_dataset(name: str, data: Any, defaults: dict[str, Any], source: str) -> DatasetSpec:
    if not _NAME.match(str(name)):
        raise ConfigError(f"{source}: datasets.{name}: names must be lowercase identifiers")
    reader = _Reader(data, f"datasets.{name}", source)
    title = reader.str("title")
    description = " ".join(reader.str("description").split())
    language = reader.str("language", choices=LANGUAGES)
    class_names = reader.str_list("class_names")
    if len(class_names) < 2 or len(set(class_names)) != len(class_names):
        raise reader.fail("class_names", f"needs at least two distinct names, got {list(class_names)}")

    files_reader = reader.sub("files")
    files = tuple(_parse_file(files_reader.sub(str(role)), str(role)) for role in files_reader.data)
    if not files:
        raise reader.fail("files", "needs at least one file")
    roles = tuple(f.role for f in files)

    fmt = _parse_format(reader.sub("format"))
    rule_reader = reader.sub("label_rule")
    rule = _parse_label_rule(rule_reader, class_names)
    if fmt.type == "delimited":
        if rule.column not in fmt.columns:
            raise rule_reader.fail("column", f"{rule.column!r} is not one of the columns {list(fmt.columns)}")
    elif fmt.type == "imdb_archive" and len(files) != 1:
        raise reader.fail("files", "an imdb_archive dataset has exactly one archive file")
    split = _parse_split(reader.sub("split"), fmt, roles)

    structure: dict[str, Any] = {}
    if reader.has("structure"):
        structure_reader = reader.sub("structure")
        for key in ("rows", "classes", "raw_labels"):
            if structure_reader.has(key):
                structure[key] = _frozen(_parse_counts(structure_reader, key))
        structure_reader.finish()

    empty_text = reader.str("empty_text", required=False, choices=EMPTY_TEXT_POLICIES) or "error"
    known_empty = _parse_counts(reader, "known_empty") if reader.has("known_empty") else {}
    known_defects: dict[str, tuple[int, ...]] = {}
    defects = reader.raw("known_defects", required=False)
    if defects is not None:
        if not isinstance(defects, Mapping):
            raise reader.fail("known_defects", "must map a file role to a list of line numbers")
        for role, lines in defects.items():
            if role not in roles or not isinstance(lines, list):
                raise reader.fail(f"known_defects.{role}", "must map a file role to a list of line numbers")
            if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in lines):
                raise reader.fail(f"known_defects.{role}", "line numbers are positive integers (1-based)")
            known_defects[str(role)] = tuple(lines)

    tokenizer_options = reader.raw("tokenizer_options", required=False) or {}
    if not isinstance(tokenizer_options, Mapping):
        raise reader.fail("tokenizer_options", "must be a mapping of tokenizer options")
    spec = DatasetSpec(
        name=str(name),
        title=title,
        description=description,
        language=language,
        class_names=class_names,
        files=files,
        format=fmt,
        label_rule=rule,
        split=split,
        tokenizer=reader.str("tokenizer", required=False) or defaults["tokenizers"].get(language),
        tokenizer_options=_frozen(tokenizer_options),
        vocab_size=reader.int("vocab_size", required=False, minimum=3),
        max_length=reader.int("max_length", required=False, minimum=1),
        validation_fraction=defaults["validation_fraction"],
        validation_seed=defaults["validation_seed"],
        limit_test_fraction=defaults["limit_test_fraction"],
        limit_seed=defaults["limit_seed"],
        structure=_frozen(structure),
        empty_text=empty_text,
        known_empty=_frozen(known_empty),
        known_defects=_frozen(known_defects),
        seed_recipe=_parse_recipe(reader.sub("seed_recipe")) if reader.has("seed_recipe") else None,
        homepage=reader.str("homepage", required=False),
        citation=reader.str("citation", required=False),
        aliases=tuple(a.lower() for a in reader.str_list("aliases", required=False) or ()),
        tfds_name=reader.str("tfds_name", required=False),
        content_hash=content_key({"name": name, "entry": data}),
    )
    reader.finish()
    return spec


def parse_registry(data: Any, source: str = "datasets.yaml") -> Registry:
    """Validate an already-parsed registry document."""
    top = _Reader(data, "", source)
    version = top.int("registry_version")
    if version != REGISTRY_VERSION:
        raise top.fail("registry_version", f"this package reads version {REGISTRY_VERSION}, got {version}")
    defaults_reader = top.sub("defaults")
    tokenizers_reader = defaults_reader.sub("tokenizer_by_language")
    tokenizers = {}
    for language in tokenizers_reader.data:
        if language not in LANGUAGES:
            raise tokenizers_reader.fail(str(language), f"unknown language; known: {', '.join(LANGUAGES)}")
        tokenizers[language] = tokenizers_reader.str(language)
    validation = defaults_reader.sub("validation")
    limit = defaults_reader.sub("limit")
    user_file = defaults_reader.sub("user_file") if defaults_reader.has("user_file") else None
    defaults = {
        "tokenizers": tokenizers,
        "validation_fraction": validation.fraction("fraction"),
        "validation_seed": validation.int("seed", minimum=0),
        "limit_test_fraction": limit.fraction("test_fraction"),
        "limit_seed": limit.int("seed", minimum=0),
        "user_file_max_length": USER_FILE_MAX_LENGTH,
    }
    if user_file is not None:
        defaults["user_file_max_length"] = user_file.int("max_length", minimum=1)
        user_file.finish()
    validation.finish()
    limit.finish()
    defaults_reader.finish()
    datasets_reader = top.sub("datasets")
    datasets: dict[str, DatasetSpec] = {}
    for name, entry in datasets_reader.data.items():
        datasets_reader.used.add(name)
        datasets[str(name)] = _parse_dataset(str(name), entry, defaults, source)
    if not datasets:
        raise top.fail("datasets", "is empty")
    top.finish()
    aliases: dict[str, str] = {}
    for spec in datasets.values():
        for alias in spec.aliases:
            if alias in datasets or alias in aliases:
                raise ConfigError(f"{source}: datasets.{spec.name}.aliases: {alias!r} is already taken")
            aliases[alias] = spec.name
    return Registry(source, _frozen(datasets), _frozen(tokenizers), _frozen(defaults))


def load_registry(path: str | Path | None = None) -> Registry:
    """Read a registry file (default: the packaged ``datasets.yaml``)."""
    yaml = require("yaml", "train")

    if path is None:
        resource = resources.files("bilstm_attention").joinpath("datasets.yaml")
        source = "datasets.yaml"
        try:
            text = resource.read_text(encoding="utf-8")
        except FileNotFoundError:  # pragma: no cover - broken installation
            raise ConfigError("the packaged datasets.yaml is missing; reinstall bilstm-attention") from None
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"registry file {path} does not exist") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"registry file {path} is not UTF-8: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source} is not valid YAML: {exc}") from None
    return parse_registry(data, source)


@functools.lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The packaged registry, read once per process."""
    return load_registry()


def list_datasets() -> list[str]:
    """Names of the registered datasets, in registry order."""
    return default_registry().names()


def get_spec(name: str | DatasetSpec) -> DatasetSpec:
    """The validated registry entry of ``name`` (aliases and ``-``/``_`` accepted)."""
    if isinstance(name, DatasetSpec):
        return name
    return default_registry().get(name)


def default_tokenizer(language: str) -> str | None:
    """The default tokenizer name for a language code (``en`` -> ``english``, ``ko`` -> ``kiwi``)."""
    return default_registry().default_tokenizers.get(language)
