"""Settings: defaults < the user's config < the diary's ``paperdiary.toml`` < ``PAPERDIARY_*`` env vars < flags.

Each field's env var is ``PAPERDIARY_`` + its name in capitals (``arxiv_api`` ->
``PAPERDIARY_ARXIV_API``); the OpenAI conventions ``OPENAI_BASE_URL`` and
``OPENAI_API_KEY`` are honoured too. The API key is never read from a toml
file (diaries are git repositories) and never printed.

The user's config (``$XDG_CONFIG_HOME/paperdiary/config.toml``, by default
``~/.config/paperdiary/config.toml``) is the user's own; a diary's
``paperdiary.toml`` came with the diary, perhaps from a stranger. So the servers
and models a diary's file names (``ENDPOINT_SETTINGS``) are used only once the
user trusts it (``--trust-diary-endpoints``, or ``trust_diary_endpoints`` /
``trusted_diaries`` in the user's config): :func:`require_trusted_endpoints`
refuses them otherwise, naming the setting and the host, before anything is sent.
"""

from __future__ import annotations

import dataclasses
import math
import os
import posixpath
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any, Mapping
from urllib.parse import urlsplit

from paperdiary.errors import SettingsError
from paperdiary.models import SOURCE_KINDS

SETTINGS_FILE = "paperdiary.toml"
USER_CONFIG = Path("paperdiary") / "config.toml"  # below $XDG_CONFIG_HOME, by default ~/.config
OPENAI_BASE_URL = "https://api.openai.com/v1"  # where a model goes when no base_url is set
DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query?{}"
# Tries per request before giving up, for arXiv and the LLM alike (and for `doctor`, so that every
# message counts the same), within ``retry_max_time``.
RETRY_ATTEMPTS = 6
MIN_CHUNK_TOKENS = 64  # a smaller chunk holds no useful piece of a paper


DEFAULT_ENTRY_PATH = "{month_year}/{ordinal_day}{month}{short_name}.md"


@dataclass
class Settings:
    diary: Path = field(default_factory=Path.cwd)

    # Layout of the diary (relative to the diary root).
    entries_dir: str = "entries"
    state_dir: str = ".paperdiary"  # git-ignored: caches and the SQLite store
    queue_file: str = "LESSONS-QUEUE.md"
    prompts_dir: str = "prompts"  # a diary's own templates override the packaged ones
    # Entry path below entries_dir. Fields: {month_year} {month} {month_num} {year} {day} {ordinal_day}
    # {short_name} {title} {slug} {snake} {arxiv_id} {theme}. Empty: where the diary already keeps its
    # entries (diary/shape.py), DEFAULT_ENTRY_PATH below entries_dir in a new diary.
    entry_path: str = ""
    lessons_heading: str = ""  # "" = the first "## ..." heading containing "Lesson"
    index_heading: str = ""  # the README's chronological index; "" = found by its words or shape, else "## Full Diary"
    reading_list: str = "READING-LIST.md"  # papers to read: never an entry
    assets_dir: str = "assets"  # where `paperdiary stats` writes its plots; a folder inside the diary
    # The catalog of entries (diary/catalog.py): folders to read (empty = the whole diary), and
    # gitignore-style globs of files and folders to leave out. Lists in the toml file; comma-separated
    # in PAPERDIARY_CATALOG_ROOTS / PAPERDIARY_CATALOG_IGNORE.
    catalog_roots: tuple[str, ...] = ()
    catalog_ignore: tuple[str, ...] = ()
    catalog_max_mb: float = 4.0  # a larger markdown file is listed as a problem and never read

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
    # The model's context window in tokens, for a server that does not say it (0: ask the server; see
    # llm/window.py). Chunks, prompt and answer are sized to fit it.
    context_tokens: int = 0

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

    # Trust (the user's config, the environment or --trust-diary-endpoints only; never a diary's file):
    # whether the servers and models a diary's paperdiary.toml names may be used.
    trust_diary_endpoints: bool = False  # every diary's
    trusted_diaries: tuple[str, ...] = ()  # these diaries' (folders; ~ allowed)

    # Where each setting not at its default came from (a file, $VARIABLE or --flag): not a setting.
    origins: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

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
# Servers contacted, and the models asked there: a diary's paperdiary.toml may name them only when trusted.
ENDPOINT_SETTINGS = ("model", "base_url", "embedder", "embedder_url", "arxiv_api", "arxiv_eprint_url",
                     "arxiv_html_url")
USER_ONLY_SETTINGS = ("trust_diary_endpoints", "trusted_diaries")  # never from a diary's paperdiary.toml
_NOT_SETTINGS = {"diary", "origins"}


# Settings naming a place in the diary. Each must stay inside it (``check_path_setting``): a cloned
# diary's paperdiary.toml must not make PaperDiary write to /abs/path or ../x. A folder is also
# followed through symlinks here, since everything below it would be read or written outside; a file
# (the queue, the reading list) is, each time it is used (``fsutil.resolve_inside``): a link out
# refuses that file, not every command.
PATH_SETTINGS = ("entries_dir", "state_dir", "queue_file", "prompts_dir", "reading_list", "catalog_roots", "assets_dir")
FOLDER_SETTINGS = ("entries_dir", "state_dir", "prompts_dir", "catalog_roots", "assets_dir")
PATH_RULE = ("a path setting names a place inside the diary: relative to the diary folder, "
             "without '..' or '~', and not through a symlink that leads out of it")


PLACE_RULE = ("each path setting names a place of its own: not README.md, not another path setting's place, "
              "nothing inside the state folder and nothing under .git/")
_FILE_SETTINGS = ("queue_file", "reading_list")
README_FILE = "README.md"


def _place(value: str) -> str:
    """A path setting's place, comparable with another's: normalised, forward slashes, case folded."""
    return posixpath.normpath(value.replace("\\", "/")).casefold()


def _within(place: str, folder: str) -> bool:
    return folder == "." or place == folder or place.startswith(folder + "/")


def check_path_places(settings: Settings, sources: Mapping[str, str]) -> None:
    """Refuse path settings that name README.md, each other, the state folder's contents or ``.git/``.

    A queue that is README.md would be "applied" into itself; a setting under ``.git/``
    would have PaperDiary rewrite git's own files. Compared by name and, for the
    files, by where they really lead (a symlink to README.md is README.md).
    """
    diary = settings.diary
    named = [(name, item) for name in PATH_SETTINGS
             for item in (getattr(settings, name) if name == "catalog_roots" else (getattr(settings, name),))]
    state = _place(settings.state_dir)
    readme = (diary / README_FILE).resolve()
    seen: dict[str, str] = {}  # place -> the setting naming it (catalog_roots may repeat entries_dir)
    for name, value in named:
        place = _place(value)
        problem = None
        if ".git" in place.split("/"):
            problem = "under .git/"
        elif place == README_FILE.casefold() or (name in _FILE_SETTINGS and (diary / value).resolve() == readme):
            problem = "the diary's README"
        elif name == "state_dir" and place == ".":
            problem = "the diary itself, so every file of it would be state"
        elif name != "state_dir" and _within(place, state):
            problem = f"inside the state folder {settings.state_dir!r}"
        elif name != "catalog_roots" and place in seen and seen[place] != "catalog_roots":
            problem = f"the place {seen[place]} names too"
        elif name in _FILE_SETTINGS:
            other = next((o for o in _FILE_SETTINGS if o != name and o in seen.values()
                          and (diary / getattr(settings, o)).resolve() == (diary / value).resolve()), None)
            problem = f"the file {other} names too" if other else None
        if problem is not None:
            source = sources.get(name)
            where = f"in {source}" if source else "(its default)"
            raise SettingsError(f"setting {name!r} {where} is {value!r}, {problem}: {PLACE_RULE}.",
                                hint=f"Fix it in {source}." if source else f"Set {name} to another place.")
        seen.setdefault(place, name)


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
    "catalog_max_mb": (0, False, 10_000, "megabytes"),
    "extract_timeout": (0, False, 86400, "seconds"),
    "chunk_tokens": (MIN_CHUNK_TOKENS, True, 10_000_000, "tokens"),
    "context_tokens": (0, True, 100_000_000, "tokens"),
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


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The user's own config file: ``$XDG_CONFIG_HOME/paperdiary/config.toml``, else ``~/.config/paperdiary/config.toml``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base).expanduser() / USER_CONFIG


def _read_toml(path: Path, types: dict[str, type], *, user: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings, prices) from a toml file: the user's config, or a diary's paperdiary.toml (``user=False``)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}.", hint="Fix or remove it.") from None
    table = dict(data.get("paperdiary", data))  # accept a [paperdiary] table or top-level keys
    prices = _prices(table.pop("prices", data.get("prices", {})), path)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if not user and key in USER_ONLY_SETTINGS:
            raise SettingsError(f"{path}: {key!r} is yours to set, not a diary's: a cloned diary must not trust "
                                "itself.", hint=f"Set it in {user_config_path()} or pass --trust-diary-endpoints.")
        if key not in types or key in _SECRET_FIELDS or key in _NOT_SETTINGS:
            known = sorted(set(types) - _SECRET_FIELDS - _NOT_SETTINGS - (set() if user else set(USER_ONLY_SETTINGS)))
            raise SettingsError(f"{path}: unknown setting {key!r}.", hint="Known settings: " + ", ".join(known) + ".")
        values[key] = _coerce(key, value, types[key], str(path))
    return values, prices


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
    prices: dict[str, dict[str, float]] = {}
    for path, user in ((user_config_path(env), True), (diary_path / SETTINGS_FILE, False)):
        if path.is_file():
            found, more_prices = _read_toml(path, types, user=user)
            values.update(found)
            sources.update(dict.fromkeys(found, str(path)))
            prices.update(more_prices)
    if prices:
        values["prices"] = prices

    for name, kind in types.items():
        if name in _NOT_SETTINGS:
            continue
        for var in (f"PAPERDIARY_{name.upper()}", _ENV_ALIASES.get(name)):
            if var and env.get(var):
                values[name] = _coerce(name, env[var], kind, f"${var}")
                sources[name] = f"${var}"
                break

    for name, value in (overrides or {}).items():
        if value is not None:
            if name not in types or name in _NOT_SETTINGS:
                raise SettingsError(f"unknown setting {name!r}.")
            values[name] = _coerce(name, value, types[name], f"--{name.replace('_', '-')}")
            sources[name] = f"--{name.replace('_', '-')}"

    for name, source in sources.items():
        if name in _RANGES:
            _check_range(name, values[name], source)
    settings = Settings(diary=diary_path, origins=sources, **values)
    for name in PATH_SETTINGS:
        value = getattr(settings, name)
        for item in value if isinstance(value, tuple) else (value,):
            check_path_setting(diary_path, name, item, sources.get(name))
    check_path_places(settings, sources)
    if "{}" not in settings.arxiv_api:
        # Accept a plain query URL too: http://host/api/query -> http://host/api/query?{}
        settings.arxiv_api = settings.arxiv_api.rstrip("?") + "?{}"
    return settings


# -- trust: the diary's own endpoints ---------------------------------------------------------------------


def _host(url: str) -> str:
    """A URL's host (and port), never its credentials."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host


def endpoints_in_use(settings: Settings) -> dict[str, str]:
    """The endpoint settings a command would use, each with the host it means: the model's server, the
    embedder's, arXiv's."""
    llm_host = _host(settings.base_url or OPENAI_BASE_URL)
    used = {"arxiv_api": _host(settings.arxiv_api)}
    used |= {name: _host(url) for name in ("arxiv_eprint_url", "arxiv_html_url") if (url := getattr(settings, name))}
    if settings.model:
        used |= {"model": llm_host, "base_url": llm_host}
    if settings.embedder.strip().lower() != "wordllama":
        embed_host = _host(settings.embedder_url) if settings.embedder_url else llm_host
        used |= {"embedder": embed_host, "embedder_url" if settings.embedder_url else "base_url": embed_host}
    return used


def diary_trusted(settings: Settings) -> bool:
    """Whether the user lets this diary's paperdiary.toml choose servers and models."""
    if settings.trust_diary_endpoints:
        return True
    here = settings.diary.resolve()
    return any(Path(folder).expanduser().resolve() == here for folder in settings.trusted_diaries)


def require_trusted_endpoints(settings: Settings, names: tuple[str, ...] = ENDPOINT_SETTINGS) -> None:
    """Refuse a server or model (of ``names``, among those in use) that the diary's paperdiary.toml chose,
    unless the user trusts the diary; checked before anything is sent, so the key never reaches it."""
    diary_file = str(settings.diary / SETTINGS_FILE)
    if diary_trusted(settings):
        return
    used = endpoints_in_use(settings)
    for name in names:
        if name in used and settings.origins.get(name) == diary_file:
            raise SettingsError(
                f"{diary_file} sets {name} (host {used[name]}): a diary's own servers and models are used only "
                "when you trust it, so nothing was sent there.",
                hint="Pass --trust-diary-endpoints, or add this diary to trusted_diaries (or set "
                     f"trust_diary_endpoints = true) in {user_config_path()}; or set your own {name} there or in "
                     f"PAPERDIARY_{name.upper()}.")


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
