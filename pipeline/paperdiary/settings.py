"""Settings: defaults < the diary's ``paperdiary.toml`` < ``PAPERDIARY_*`` env vars < flags.

Each field's env var is ``PAPERDIARY_`` + its name in capitals (``arxiv_api`` ->
``PAPERDIARY_ARXIV_API``); the OpenAI conventions ``OPENAI_BASE_URL`` and
``OPENAI_API_KEY`` are honoured too. The API key is never read from the toml
file (diaries are git repositories) and never printed.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from paperdiary.errors import SettingsError

SETTINGS_FILE = "paperdiary.toml"
DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query?{}"


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
    # The catalog of entries (diary/catalog.py): folders to read (empty = the whole diary), and
    # gitignore-style globs of files and folders to leave out. Lists in the toml file; comma-separated
    # in PAPERDIARY_CATALOG_ROOTS / PAPERDIARY_CATALOG_IGNORE.
    catalog_roots: tuple[str, ...] = ()
    catalog_ignore: tuple[str, ...] = ()

    # arXiv.
    arxiv_api: str = DEFAULT_ARXIV_API  # a query URL with "{}" for the query string
    arxiv_delay: float = 3.0  # seconds between API requests (arXiv's terms)
    http_timeout: float = 30.0  # per request, connect and read
    retry_max_time: float = 120.0  # total seconds spent retrying one request
    pdf_max_mb: float = 50.0

    # Extraction and chunking.
    extract_timeout: float = 120.0
    chunk_tokens: int = 12000

    # LLM (empty model = offline drafter).
    model: str = ""
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    llm_timeout: float = 120.0
    llm_concurrency: int = 4
    # Extra or corrected prices, USD per million tokens: {"my-model": {"input": 0.5, "output": 1.5}}.
    # Only from paperdiary.toml's [prices] table.
    prices: dict[str, dict[str, float]] = field(default_factory=dict)

    # The topic map (`paperdiary map`, diary/map/) and related entries; they need the `map` extra.
    # embedder: "wordllama" (offline, its weights ship in its wheel) or an embedding model served at
    # embedder_url's OpenAI-compatible /v1/embeddings (default: base_url). Configured means used.
    embedder: str = "wordllama"
    embedder_url: str = ""
    map_clusters: str = "auto"  # "auto" (k by silhouette within map_k_range), a number of clusters, or "hdbscan"
    map_k_range: str = "2-12"
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
    def queue_path(self) -> Path:
        return self.diary / self.queue_file

    @property
    def llm_configured(self) -> bool:
        return bool(self.model)


_SECRET_FIELDS = {"api_key"}
_ENV_ALIASES = {"base_url": "OPENAI_BASE_URL", "api_key": "OPENAI_API_KEY"}


def _path_list(name: str, value: Any, source: str) -> tuple[str, ...]:
    """A list setting: a toml array of strings, or one comma-separated string (an env var)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise SettingsError(f"setting {name!r} from {source} must be a list of strings, not {value!r}.",
                            hint=f'e.g. {name} = ["Robotics", "June 2025"]')
    out = tuple(item.strip().replace("\\", "/") for item in items if item.strip())
    for item in out:
        # An ignore glob may start with "/" (anchored at the diary root, as in .gitignore); a root may not.
        absolute = item.startswith("/") and name != "catalog_ignore"
        if absolute or item.startswith("~") or ".." in PurePosixPath(item).parts:
            raise SettingsError(
                f"setting {name!r} from {source} has {item!r}, which is not a path inside the diary.",
                hint="Give paths relative to the diary folder, without '..'.",
            )
    return out


def _coerce(name: str, value: Any, kind: type, source: str) -> Any:
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


def _field_types() -> dict[str, type]:
    hints = {"Path": Path, "str": str, "float": float, "int": int, "bool": bool, "tuple[str, ...]": tuple}
    return {f.name: hints[str(f.type)] for f in fields(Settings) if str(f.type) in hints}


def _prices(table: Any, source: Path) -> dict[str, dict[str, float]]:
    try:
        return {
            str(model): {kind: float(price[kind]) for kind in ("input", "output") if kind in price}
            for model, price in table.items()
        }
    except (AttributeError, TypeError, ValueError):
        raise SettingsError(
            f"{source}: [prices] must map model names to {{input = USD, output = USD}} per million tokens.",
            hint="e.g. [prices.\"my-model\"] input = 0.5 output = 1.5",
        ) from None


def load_settings(
    diary: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings for a diary. ``overrides`` are flags (None values ignored)."""
    env = os.environ if env is None else env
    types = _field_types()
    values: dict[str, Any] = {}

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

    for name, kind in types.items():
        if name == "diary":
            continue
        for var in (f"PAPERDIARY_{name.upper()}", _ENV_ALIASES.get(name)):
            if var and env.get(var):
                values[name] = _coerce(name, env[var], kind, f"${var}")
                break

    for name, value in (overrides or {}).items():
        if value is not None:
            if name not in types:
                raise SettingsError(f"unknown setting {name!r}.")
            values[name] = _coerce(name, value, types[name], f"--{name.replace('_', '-')}")

    settings = Settings(diary=diary_path, **values)
    if "{}" not in settings.arxiv_api:
        # Accept a plain query URL too: http://host/api/query -> http://host/api/query?{}
        settings.arxiv_api = settings.arxiv_api.rstrip("?") + "?{}"
    return settings


def redacted(settings: Settings) -> dict[str, Any]:
    """Settings as a dict, safe to print or log."""
    out = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(settings).items()}
    for name in _SECRET_FIELDS:
        out[name] = "(set)" if out.get(name) else ""
    return out
