"""Settings: defaults < the diary's ``paperdiary.toml`` < ``PAPERDIARY_*`` env vars < flags.

Each field's env var is ``PAPERDIARY_`` + its name in capitals (``arxiv_api`` ->
``PAPERDIARY_ARXIV_API``); the OpenAI conventions ``OPENAI_BASE_URL`` and
``OPENAI_API_KEY`` are honoured too. The API key is never read from the toml
file (diaries are git repositories) and never printed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from paperdiary.errors import SettingsError
from paperdiary.models import SOURCE_KINDS

SETTINGS_FILE = "paperdiary.toml"
DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query?{}"
# Tries per request before giving up, for arXiv and the LLM alike (and for `doctor`, so that every
# message counts the same), within ``retry_max_time``.
RETRY_ATTEMPTS = 6
MIN_CHUNK_TOKENS = 64  # a smaller chunk holds no useful piece of a paper


@dataclass
class Settings:
    diary: Path = field(default_factory=Path.cwd)

    # Layout of the diary (relative to the diary root).
    entries_dir: str = "entries"
    state_dir: str = ".paperdiary"  # git-ignored: caches and the SQLite store
    queue_file: str = "LESSONS-QUEUE.md"
    prompts_dir: str = "prompts"  # a diary's own templates override the packaged ones
    # Entry path below entries_dir. Fields: {month_year} {month} {year} {day} {ordinal_day}
    # {short_name} {arxiv_id} {theme}.
    entry_path: str = "{month_year}/{ordinal_day}{month}{short_name}.md"
    lessons_heading: str = ""  # "" = the first "## ..." heading containing "Lesson"
    reading_list: str = "READING-LIST.md"  # papers to read: never an entry
    assets_dir: str = "assets"  # where `paperdiary stats` writes its plots; a folder inside the diary
    # The catalog of entries (diary/catalog.py): folders to read (empty = the whole diary), and
    # gitignore-style globs of files and folders to leave out. Lists in the toml file; comma-separated
    # in PAPERDIARY_CATALOG_ROOTS / PAPERDIARY_CATALOG_IGNORE.
    catalog_roots: tuple[str, ...] = ()
    catalog_ignore: tuple[str, ...] = ()

    # arXiv.
    arxiv_api: str = DEFAULT_ARXIV_API  # a query URL with "{}" for the query string
    arxiv_delay: float = 3.0  # seconds between requests to arXiv, API and downloads (arXiv's terms)
    http_timeout: float = 30.0  # per request, connect and read
    retry_max_time: float = 120.0  # total seconds spent retrying one request
    pdf_max_mb: float = 50.0  # the largest download: a PDF, a LaTeX source, an HTML page
    # Where a paper's text comes from, best first: its LaTeX source (arXiv's /e-print/), arXiv's HTML
    # rendering (/html/), the PDF. A local file is always read as a PDF.
    sources: tuple[str, ...] = SOURCE_KINDS
    # URLs of the LaTeX source and the HTML rendering, "{}" standing for the versioned ID
    # ("https://arxiv.org/e-print/{}"); empty: on the host of the PDF link the arXiv API gives.
    arxiv_eprint_url: str = ""
    arxiv_html_url: str = ""
    source_max_mb: float = 100.0  # a LaTeX source's size once decompressed (tar bombs)

    # Extraction and chunking.
    extract_timeout: float = 120.0
    chunk_tokens: int = 12000

    # LLM (empty model = offline drafter).
    model: str = ""
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    llm_timeout: float = 120.0  # seconds without a token (answers stream) before the request is retried
    llm_concurrency: int = 4

    # Seconds a writing command waits for the diary's write lock (another writing command) before giving up.
    lock_wait: float = 5.0
    # Extra or corrected prices, USD per million tokens: {"my-model": {"input": 0.5, "output": 1.5}}.
    # Only from paperdiary.toml's [prices] table.
    prices: dict[str, dict[str, float]] = field(default_factory=dict)

    # The topic map (`paperdiary map`, diary/map/) and related entries; they need the `map` extra.
    # embedder: "wordllama" (offline, its weights ship in its wheel) or an embedding model served at
    # embedder_url's OpenAI-compatible /v1/embeddings (default: base_url). Configured means used.
    embedder: str = "wordllama"
    embedder_url: str = ""
    map_clusters: str = "auto"  # "auto" (k by silhouette within map_k_range), a number of clusters, or "hdbscan"
    map_k_range: str = "2-15"
    map_theme_min_entries: int = 4  # a cluster this large that no theme covers is suggested as a new theme
    related_entries: bool = True  # `draft` links the 3 nearest earlier entries

    @property
    def state_path(self) -> Path:
        return self.diary / self.state_dir

    @property
    def entries_path(self) -> Path:
        return self.diary / self.entries_dir

    @property
    def cache_path(self) -> Path:
        return self.state_path / "cache"

    @property
    def db_path(self) -> Path:
        return self.state_path / "paperdiary.db"

    @property
    def assets_path(self) -> Path:
        return self.diary / self.assets_dir

    @property
    def queue_path(self) -> Path:
        return self.diary / self.queue_file

    @property
    def llm_configured(self) -> bool:
        return bool(self.model)


_SECRET_FIELDS = {"api_key"}
_ENV_ALIASES = {"base_url": "OPENAI_BASE_URL", "api_key": "OPENAI_API_KEY"}


# Settings naming a place in the diary. Each must stay inside it (``check_path_setting``): a cloned
# diary's paperdiary.toml must not make PaperDiary write to /abs/path or ../x. A folder is also
# followed through symlinks here, since everything below it would be read or written outside; a file
# (the queue, the reading list) is, each time it is used (``fsutil.resolve_inside``): a link out
# refuses that file, not every command.
PATH_SETTINGS = ("entries_dir", "state_dir", "queue_file", "prompts_dir", "reading_list", "catalog_roots", "assets_dir")
FOLDER_SETTINGS = ("entries_dir", "state_dir", "prompts_dir", "catalog_roots", "assets_dir")
PATH_RULE = ("a path setting names a place inside the diary: relative to the diary folder, "
             "without '..' or '~', and not through a symlink that leads out of it")


def _path_list(name: str, value: Any, source: str) -> tuple[str, ...]:
    """A list setting: a toml array of strings, or one comma-separated string (an env var)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise SettingsError(f"setting {name!r} from {source} must be a list of strings, not {value!r}.",
                            hint=f'e.g. {name} = ["Robotics", "June 2025"]')
    out = tuple(item.strip().replace("\\", "/") for item in items if item.strip())
    if name == "catalog_ignore":
        for item in out:
            # An ignore glob may start with "/" (anchored at the diary root, as in .gitignore).
            if item.startswith("~") or ".." in PurePosixPath(item).parts:
                raise SettingsError(
                    f"setting {name!r} from {source} has {item!r}, which is not a glob inside the diary.",
                    hint="Give globs relative to the diary folder, without '..'.",
                )
    return out


def check_path_setting(diary: Path, name: str, value: str, source: str | None) -> None:
    """Refuse a path setting that leads out of the diary, naming the setting, where it was set and the rule.

    ``source``: the file, variable or flag that set it; None for the default.
    """
    text = value.replace("\\", "/")
    how = f"is {value!r}"
    outside = text.startswith(("/", "~")) or ".." in PurePosixPath(text).parts
    if not outside and name in FOLDER_SETTINGS:
        target = (diary / text).resolve()
        outside = not target.is_relative_to(diary.resolve())
        how = f"is {value!r}, a symlink to {target} outside the diary"
    if outside:
        where = f"in {source}" if source else "(its default)"
        raise SettingsError(f"setting {name!r} {where} {how}: {PATH_RULE}.",
                            hint=f"Fix it in {source}." if source else
                            f"Replace the symlink {value!r} with a folder of the diary.")


def _sources(value: Any, source: str) -> tuple[str, ...]:
    """The ``sources`` setting: some of tex, html, pdf, in the order to try them."""
    items = value.split(",") if isinstance(value, str) else value
    kinds = tuple(str(item).strip().lower() for item in (items if isinstance(items, (list, tuple)) else [items]))
    kinds = tuple(kind for kind in kinds if kind)
    if not kinds or any(kind not in SOURCE_KINDS for kind in kinds) or len(set(kinds)) != len(kinds):
        raise SettingsError(f"setting 'sources' from {source} is {value!r}; it takes some of "
                            f"{', '.join(SOURCE_KINDS)}, each once, best first.",
                            hint='e.g. sources = ["tex", "html", "pdf"] (PAPERDIARY_SOURCES=tex,html,pdf)')
    return kinds


def _coerce(name: str, value: Any, kind: type, source: str) -> Any:
    if name == "sources":
        return _sources(value, source)
    if kind is tuple:
        return _path_list(name, value, source)
    try:
        if kind is Path:
            return Path(value).expanduser()
        if kind is bool:
            return str(value).lower() in ("1", "true", "yes", "on")
        return kind(value)
    except (TypeError, ValueError):
        raise SettingsError(
            f"setting {name!r} from {source} is {value!r}, not a valid {kind.__name__}.",
            hint=f"Fix it in {source}.",
        ) from None


# Allowed ranges of the numeric settings: (lowest, lowest included, highest, what the number is).
_RANGES: dict[str, tuple[float, bool, float, str]] = {
    "arxiv_delay": (0, True, 3600, "seconds"),
    "http_timeout": (0, False, 3600, "seconds"),
    "retry_max_time": (0, True, 86400, "seconds"),
    "pdf_max_mb": (0, False, 10_000, "megabytes"),
    "extract_timeout": (0, False, 86400, "seconds"),
    "chunk_tokens": (MIN_CHUNK_TOKENS, True, 10_000_000, "tokens"),
    "llm_timeout": (0, False, 86400, "seconds"),
    "llm_concurrency": (1, True, 256, "requests"),
    "lock_wait": (0, True, 86400, "seconds"),
}


def _check_range(name: str, value: float, source: str) -> None:
    """A numeric setting outside its range (negative, zero, nan, inf) is refused, naming where it came from."""
    low, low_included, high, unit = _RANGES[name]
    inside = math.isfinite(value) and (value >= low if low_included else value > low) and value <= high
    if not inside:
        bound = f"at least {low:,}" if low_included else f"above {low:,}"
        raise SettingsError(f"setting {name!r} from {source} is {value!r}: it must be {bound} and at most "
                            f"{high:,} ({unit}).", hint=f"Fix it in {source}.")


def _field_types() -> dict[str, type]:
    hints = {"Path": Path, "str": str, "float": float, "int": int, "bool": bool, "tuple[str, ...]": tuple}
    return {f.name: hints[str(f.type)] for f in fields(Settings) if str(f.type) in hints}


def _prices(table: Any, source: Path) -> dict[str, dict[str, float]]:
    try:
        prices = {
            str(model): {kind: float(price[kind]) for kind in ("input", "output") if kind in price}
            for model, price in table.items()
        }
    except (AttributeError, TypeError, ValueError):
        prices = None
    if prices is None or not all(math.isfinite(v) and v >= 0 for price in prices.values() for v in price.values()):
        raise SettingsError(
            f"{source}: [prices] must map model names to {{input = USD, output = USD}} per million tokens, "
            "each a number of at least 0.",
            hint="e.g. [prices.\"my-model\"] input = 0.5 output = 1.5",
        )
    return prices


def load_settings(
    diary: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings for a diary. ``overrides`` are flags (None values ignored)."""
    env = os.environ if env is None else env
    types = _field_types()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}  # where each value came from, for error messages

    diary_path = Path(diary or env.get("PAPERDIARY_HOME") or Path.cwd()).expanduser().resolve()
    toml_path = diary_path / SETTINGS_FILE
    if toml_path.is_file():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{toml_path} is not valid TOML: {exc}.", hint="Fix or remove it.") from None
        table = dict(data.get("paperdiary", data))  # accept a [paperdiary] table or top-level keys
        prices = table.pop("prices", data.get("prices", {}))
        values["prices"] = _prices(prices, toml_path)
        for key, value in table.items():
            if key not in types or key in _SECRET_FIELDS or key == "diary":
                raise SettingsError(
                    f"{toml_path}: unknown setting {key!r}.",
                    hint="Known settings: " + ", ".join(sorted(set(types) - _SECRET_FIELDS - {"diary"})) + ".",
                )
            values[key] = _coerce(key, value, types[key], str(toml_path))
            sources[key] = str(toml_path)

    for name, kind in types.items():
        if name == "diary":
            continue
        for var in (f"PAPERDIARY_{name.upper()}", _ENV_ALIASES.get(name)):
            if var and env.get(var):
                values[name] = _coerce(name, env[var], kind, f"${var}")
                sources[name] = f"${var}"
                break

    for name, value in (overrides or {}).items():
        if value is not None:
            if name not in types:
                raise SettingsError(f"unknown setting {name!r}.")
            values[name] = _coerce(name, value, types[name], f"--{name.replace('_', '-')}")
            sources[name] = f"--{name.replace('_', '-')}"

    for name, source in sources.items():
        if name in _RANGES:
            _check_range(name, values[name], source)
    settings = Settings(diary=diary_path, **values)
    for name in PATH_SETTINGS:
        value = getattr(settings, name)
        for item in value if isinstance(value, tuple) else (value,):
            check_path_setting(diary_path, name, item, sources.get(name))
    if "{}" not in settings.arxiv_api:
        # Accept a plain query URL too: http://host/api/query -> http://host/api/query?{}
        settings.arxiv_api = settings.arxiv_api.rstrip("?") + "?{}"
    return settings


def require_llm_endpoint(settings: Settings) -> None:
    """Refuse a model with nowhere to run: OpenAI's endpoint (the default) answers nothing without a key.

    Checked before any work, so that a first run fails at once with what to set instead of
    retrying an endpoint that cannot answer.
    """
    if settings.model and not settings.base_url and not settings.api_key:
        raise SettingsError(
            f"model {settings.model!r} is set (PAPERDIARY_MODEL or --model) but neither OPENAI_API_KEY "
            "nor OPENAI_BASE_URL is.",
            hint="Set OPENAI_API_KEY to use OpenAI, or OPENAI_BASE_URL for another OpenAI-compatible server "
                 "(e.g. http://localhost:11434/v1 for Ollama); without a model, drafts are extractive.",
        )


def redacted(settings: Settings) -> dict[str, Any]:
    """Settings as a dict, safe to print or log."""
    out = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(settings).items()}
    for name in _SECRET_FIELDS:
        out[name] = "(set)" if out.get(name) else ""
    return out
