"""Concord's configuration: one immutable object, read from `CONCORD_*` variables and TOML.

Precedence: environment variables over the TOML file (``CONCORD_CONFIG`` or ``--config``) over
defaults. Every problem found is collected and reported together, naming the setting and where it
came from, so an operator fixes a broken configuration in one pass.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server import node_settings, turn
from server.client_address import Network, parse_networks
from server.ice_settings import LOOPBACK_ONLY, IceServer, ice_host_addresses_of, ice_servers_of

ENV_PREFIX = "CONCORD_"
T = TypeVar("T")
SECRET_KEY_FILE = "secret_key"
# Setting name -> environment variable. The TOML file uses the setting names as keys.
SETTINGS = {
    "data_dir": "CONCORD_DATA_DIR",
    "ledger_witness": "CONCORD_LEDGER_WITNESS",
    "database_url": "CONCORD_DATABASE_URL",
    "redis_url": "CONCORD_REDIS_URL",
    "host": "CONCORD_HOST",
    "port": "CONCORD_PORT",
    "public_url": "CONCORD_PUBLIC_URL",
    "secret_key": "CONCORD_SECRET_KEY",
    "ice_servers": "CONCORD_ICE_SERVERS",
    "ice_host_addresses": "CONCORD_ICE_HOST_ADDRESSES",
    "max_body_bytes": "CONCORD_MAX_BODY_BYTES",
    "session_hours": "CONCORD_SESSION_HOURS",
    "argon2_time_cost": "CONCORD_ARGON2_TIME_COST",
    "argon2_memory_kib": "CONCORD_ARGON2_MEMORY_KIB",
    "floor_order": "CONCORD_FLOOR_ORDER",
    "room_opens_minutes": "CONCORD_ROOM_OPENS_MINUTES",
    "permit_deadline_working_days": "CONCORD_PERMIT_DEADLINE_WORKING_DAYS",
    "permit_holidays": "CONCORD_PERMIT_HOLIDAYS",
    "permit_time_zone": "CONCORD_PERMIT_TIME_ZONE",
    "permit_attachment_max_bytes": "CONCORD_PERMIT_ATTACHMENT_MAX_BYTES",
    "permit_authority": "CONCORD_PERMIT_AUTHORITY",
    "smtp_host": "CONCORD_SMTP_HOST",
    "smtp_port": "CONCORD_SMTP_PORT",
    "smtp_username": "CONCORD_SMTP_USERNAME",
    "smtp_password": "CONCORD_SMTP_PASSWORD",
    "smtp_security": "CONCORD_SMTP_SECURITY",
    "smtp_from": "CONCORD_SMTP_FROM",
    "trusted_proxies": "CONCORD_TRUSTED_PROXIES",
    **turn.SETTINGS,
    **node_settings.SETTINGS,
}


@dataclass(frozen=True)
class Reader:
    """What a section's ``read`` is given: the raw values found (each with where it came
    from), readers of a text and of a whole number that name the setting in any problem, and
    the list every problem goes to."""

    raw: Mapping[str, tuple[Any, str]]
    text: Callable[[str, str | None], str | None]
    integer: Callable[[str, int, int, int], int]
    number: Callable[[str, float, float, float], float]
    problems: list[str]


@dataclass(frozen=True)
class Section(Generic[T]):
    """A feature's own settings, declared in the feature (``server/monitoring/settings.py``,
    ``server/archive/settings.py``), so that this module imports no feature: their names and
    environment variables, how they are read, and their value when none was loaded.
    ``server.settings`` lists every feature's for ``load_config``."""

    name: str
    settings: Mapping[str, str]
    read: Callable[[Reader], T]
    default: T


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` lists every setting that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str
    secret_key: str
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    redis_url: str | None = None
    # In a cluster (server/node_settings.py): this node's id, and where clients reach it.
    node_id: str | None = None
    node_url: str | None = None
    ice_servers: tuple[IceServer, ...] = ()
    # coturn with a shared secret (server.turn): every page and join gets fresh credentials.
    turn: turn.Turn | None = None
    # Addresses aiortc may gather host candidates on; empty means every interface.
    ice_host_addresses: tuple[str, ...] = LOOPBACK_ONLY
    max_body_bytes: int = 1024 * 1024
    session_hours: int = 12
    # argon2id cost: the defaults are argon2-cffi's (RFC 9106 "low memory" profile).
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    # The floor queue: by delegation precedence, then request time; or by request time alone.
    floor_order: str = "precedence"
    #: Sites and interpreters may join this long before the conference starts (the chair and
    #: technicians may open the room earlier, for rehearsals and site checks).
    room_opens_minutes: int = 120
    # The conference permit: the statutory deadline in working days, the days off besides
    # weekends (over the lists shipped in server/permits/holidays_vn.json: a year given here
    # replaces that year's list), the zone whose calendar counts, the largest attachment, who
    # decides.
    permit_deadline_working_days: int = 15
    permit_holidays: tuple[dt.date, ...] = ()
    permit_time_zone: str = "Asia/Ho_Chi_Minh"
    permit_attachment_max_bytes: int = 10 * 1024 * 1024
    permit_authority: str = "Department of Foreign Affairs"
    # Calendar invitations by e-mail; no host: invitations are only downloadable.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "starttls"  # "starttls", "tls" (implicit, port 465) or "none"
    smtp_from: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (server.client_address); none by default.
    trusted_proxies: tuple[Network, ...] = ()
    # The features' own settings by section name (``section()``): connection health and
    # /metrics (server.monitoring.settings), retention (server.archive.settings).
    sections: Mapping[str, Any] = field(default_factory=dict)
    # Every signed ledger head is also appended here, outside the database (server.ledger).
    ledger_witness: Path = Path("var/ledger/witness.jsonl")

    def section(self, section: Section[T]) -> T:
        """A feature's settings, as loaded (``section.default`` when loaded without it)."""
        return cast(T, self.sections.get(section.name, section.default))

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def upload_max_bytes(self) -> int:
        """The body limit of routes that take a file from a browser form (``Rule.uploads``):
        the largest attachment and room for the form's other fields."""
        return max(self.max_body_bytes, self.permit_attachment_max_bytes + 256 * 1024)

    @property
    def own_url(self) -> str:
        """Where clients reach this node itself (a worker's own port; else the public URL)."""
        return self.node_url or self.public_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_config(
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    sections: Sequence[Section[Any]] = (),
) -> Config:
    """Read, validate and complete the configuration (generating the secret key if absent),
    with the features' ``sections`` (``server.settings.load_config`` passes every one)."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    raw: dict[str, tuple[Any, str]] = {}
    known = SETTINGS | {key: var for section in sections for key, var in section.settings.items()}

    path = config_file or (Path(env["CONCORD_CONFIG"]) if env.get("CONCORD_CONFIG") else None)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"config file {path} does not exist"]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"config file {path} is not valid TOML: {exc}"]) from None
        for key, value in data.items():
            if key not in known:
                problems.append(f"{path}: unknown setting {key!r}")
            else:
                raw[key] = (value, f"{path}: {key}")
    for key, var in known.items():
        if var in env and env[var] != "":
            raw[key] = (env[var], var)
    for key, value in (overrides or {}).items():
        if value is not None:
            raw[key] = (value, f"--{key.replace('_', '-')}")

    def text(key: str, default: str | None) -> str | None:
        if key not in raw:
            return default
        value, where = raw[key]
        if not isinstance(value, str):
            problems.append(f"{where} must be a string, got {value!r}")
            return default
        return value.strip()

    def integer(key: str, default: int, low: int, high: int) -> int:
        return int(_in_range(key, default, low, high, int, "a whole number"))

    def number(key: str, default: float, low: float, high: float) -> float:
        return float(_in_range(key, default, low, high, float, "a number"))

    def _in_range(
        key: str, default: float, low: float, high: float, kind: type[float], what: str
    ) -> float:
        if key not in raw:
            return default
        value, where = raw[key]
        try:
            found = kind(value)
        except (TypeError, ValueError):
            problems.append(f"{where} must be {what}, got {value!r}")
            return default
        if not low <= found <= high:
            shown = [f"{n:g}" if isinstance(n, float) else str(n) for n in (low, high, found)]
            problems.append(f"{where} must be between {shown[0]} and {shown[1]}, got {shown[2]}")
        return found

    data_dir = Path(text("data_dir", "./var") or "./var").expanduser()
    host = text("host", "127.0.0.1") or "127.0.0.1"
    port = integer("port", 8080, 1, 65535)
    max_body = integer("max_body_bytes", 1024 * 1024, 1024, 1024**3)
    session_hours = integer("session_hours", 12, 1, 24 * 30)
    argon2_time_cost = integer("argon2_time_cost", 3, 1, 20)
    argon2_memory_kib = integer("argon2_memory_kib", 65536, 8, 4 * 1024 * 1024)
    floor_order = text("floor_order", "precedence") or "precedence"
    if floor_order not in ("precedence", "time"):
        problems.append(f"floor order {floor_order!r} must be 'precedence' or 'time'")
    room_opens_minutes = integer("room_opens_minutes", 120, 0, 60 * 24 * 30)
    permit_days = integer("permit_deadline_working_days", 15, 1, 365)
    permit_holidays = _dates(raw.get("permit_holidays"), problems)
    permit_zone = text("permit_time_zone", "Asia/Ho_Chi_Minh") or "Asia/Ho_Chi_Minh"
    try:
        ZoneInfo(permit_zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"permit time zone {permit_zone!r} is not an IANA time zone")
    permit_max_bytes = integer("permit_attachment_max_bytes", 10 * 1024 * 1024, 1024, 1024**3)
    permit_authority = text("permit_authority", None) or "Department of Foreign Affairs"
    smtp = _smtp(text, integer, problems)
    proxies, proxies_from = raw.get("trusted_proxies", (None, SETTINGS["trusted_proxies"]))
    trusted_proxies = parse_networks(proxies, proxies_from, problems)
    node = node_settings.read(text, problems)
    reader = Reader(raw, text, integer, number, problems)
    features = {section.name: section.read(reader) for section in sections}

    database_url = text("database_url", None) or f"sqlite+aiosqlite:///{data_dir / 'concord.db'}"
    ledger_witness = _ledger_witness(text("ledger_witness", None), data_dir, database_url, problems)
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        problems.append(
            f"database URL {database_url!r} is not supported: use sqlite+aiosqlite:///PATH "
            "or postgresql+asyncpg://USER@HOST/DB"
        )

    redis_url = text("redis_url", None)
    if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        problems.append(f"Redis URL {redis_url!r} must start with redis://, rediss:// or unix://")

    default_public = f"http://{_url_host(host)}:{port}"
    public_url = (text("public_url", default_public) or default_public).rstrip("/")
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"public URL {public_url!r} must be an absolute http:// or https:// URL")

    ice_servers = ice_servers_of(raw.get("ice_servers"), problems)
    ice_hosts = ice_host_addresses_of(raw.get("ice_host_addresses"), host, problems)
    turn_server = turn.read(raw, text, integer, problems)

    secret = text("secret_key", None)
    if secret is not None and len(secret) < 32:
        problems.append("secret key must be at least 32 characters long")

    if problems:
        raise ConfigError(problems)
    if secret is None:
        secret = _stored_secret(data_dir)
    return Config(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret,
        host=host,
        port=port,
        public_url=public_url,
        redis_url=redis_url or None,
        ice_servers=ice_servers,
        turn=turn_server,
        ice_host_addresses=ice_hosts,
        max_body_bytes=max_body,
        session_hours=session_hours,
        argon2_time_cost=argon2_time_cost,
        argon2_memory_kib=argon2_memory_kib,
        floor_order=floor_order,
        room_opens_minutes=room_opens_minutes,
        permit_deadline_working_days=permit_days,
        permit_holidays=permit_holidays,
        permit_time_zone=permit_zone,
        permit_attachment_max_bytes=permit_max_bytes,
        permit_authority=permit_authority,
        ledger_witness=ledger_witness,
        **smtp,
        trusted_proxies=trusted_proxies,
        **node,
        sections=features,
    )


def default_ledger_witness(data_dir: Path) -> Path:
    """Where the ledger's witness file goes unless ``CONCORD_LEDGER_WITNESS`` says."""
    return data_dir / "ledger" / "witness.jsonl"


def _ledger_witness(
    value: str | None, data_dir: Path, database_url: str, problems: list[str]
) -> Path:
    """The witness file: a file (existing or to be created), not the database itself."""
    path = Path(value).expanduser() if value else default_ledger_witness(data_dir)
    where = f"ledger witness {str(path)!r}"
    if path.is_dir():
        problems.append(f"{where} is a directory; give a file path (it is created on first use)")
    elif path.exists() and not path.is_file():
        problems.append(f"{where} is not a regular file")
    elif (
        database_url.startswith("sqlite")
        and path.resolve() == Path(database_url.split("///", 1)[-1]).expanduser().resolve()
    ):
        problems.append(f"{where} is the database file; the witness must be kept apart from it")
    return path


def _smtp(
    text: Callable[[str, str | None], str | None],
    integer: Callable[[str, int, int, int], int],
    problems: list[str],
) -> dict[str, Any]:
    """The SMTP settings (calendar invitations), checked together."""
    host = text("smtp_host", None) or None
    security = text("smtp_security", "starttls") or "starttls"
    if security not in ("starttls", "tls", "none"):
        problems.append(f"SMTP security {security!r} must be 'starttls', 'tls' or 'none'")
    port = integer("smtp_port", 465 if security == "tls" else 587, 1, 65535)
    username = text("smtp_username", None) or None
    password = text("smtp_password", None) or None
    if (username is None) != (password is None):
        problems.append("SMTP username and password go together: set both or neither")
    sender = text("smtp_from", "") or ""
    if host and "@" not in sender:
        problems.append(
            "CONCORD_SMTP_FROM must be an e-mail address (the invitations' sender)"
            " when CONCORD_SMTP_HOST is set"
        )
    return {
        "smtp_host": host,
        "smtp_port": port,
        "smtp_username": username,
        "smtp_password": password,
        "smtp_security": security,
        "smtp_from": sender,
    }


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _dates(item: tuple[Any, str] | None, problems: list[str]) -> tuple[dt.date, ...]:
    """Holidays: ISO dates, comma-separated in the environment or a TOML list of dates."""
    if item is None:
        return ()
    value, where = item
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, list | tuple):
        problems.append(f"{where} must be a comma-separated list of dates (YYYY-MM-DD)")
        return ()
    days: set[dt.date] = set()
    for entry in entries:
        if isinstance(entry, dt.date) and not isinstance(entry, dt.datetime):
            days.add(entry)
            continue
        text = str(entry).strip()
        if not text:
            continue
        try:
            days.add(dt.date.fromisoformat(text))
        except ValueError:
            problems.append(f"{where}: {text!r} is not a date (YYYY-MM-DD)")
    return tuple(sorted(days))


def _stored_secret(data_dir: Path) -> str:
    """Return the secret key kept in the data directory, creating it (mode 0600) on first run."""
    path = data_dir / SECRET_KEY_FILE
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret
