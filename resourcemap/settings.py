# Over 400 lines: every setting, its default and its description, in one class by design.
"""All configuration, read in one place: environment (``RESOURCEMAP_*``) → ``.env`` → default."""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
import zlib
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Never in force (#15): kept to recognise it, and the data key it used to derive.
PLACEHOLDER_SECRET = "change-me"
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128
SENDERS = ("log", "smtp", "webhook")
# One label of a host name (RFC 1123): letters, digits and inner hyphens.
HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def weakness(secret: str) -> str | None:
    """Why ``secret`` is too weak to sign sessions in production, or ``None``.

    Length alone is not enough: ``"a" * 40`` and ``"1234567890" * 4`` are long. A secret needs
    32 characters, about 128 bits of character entropy, and must not repeat itself.

    >>> weakness("a" * 40)
    'has too little entropy (0 bits; at least 128)'
    >>> weakness("1234567890" * 4)
    'repeats itself'
    >>> import secrets
    >>> weakness(secrets.token_urlsafe(32)) is None
    True
    """
    if secret == PLACEHOLDER_SECRET:
        return "is the public placeholder"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    counts = Counter(secret)
    bits = sum(n * math.log2(len(secret) / n) for n in counts.values())
    if bits < MIN_SECRET_BITS:
        return f"has too little entropy ({bits:.0f} bits; at least {MIN_SECRET_BITS})"
    # A random string barely compresses; a repeated pattern compresses to a fraction.
    raw = secret.encode()
    packed = len(zlib.compress(raw, 9)) - len(zlib.compress(b"", 9))
    if packed < 0.7 * len(raw):  # random hex still packs to about 0.8
        return "repeats itself"
    return None


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Typed, frozen settings. Only the CLI and the ASGI entry point construct them from
    the environment; everything else receives them."""

    model_config = SettingsConfigDict(
        env_prefix="RESOURCEMAP_", env_file=".env", frozen=True, extra="ignore"
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="`development` or `production`; production refuses missing or weak "
        "secrets, and development refuses to listen beyond this machine with generated ones.",
    )
    database_url: str = Field(
        "sqlite://resourcemap.sqlite3",
        description="Database URL: `sqlite://PATH` (embedded default) or "
        "`postgres://user:password@host:port/db` (PostgreSQL with PostGIS).",
    )
    db_connect_timeout: float = Field(
        5.0,
        gt=0,
        le=300,
        description="Seconds to wait for a new PostgreSQL connection before answering 503.",
    )
    db_statement_timeout: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Seconds one statement of the app or the booking worker may run (PostgreSQL "
        "`statement_timeout`; on SQLite, how long a write waits for another process's lock) "
        "before the request answers 503. Commands such as imports have no limit.",
    )
    db_pool_timeout: float = Field(
        5.0,
        gt=0,
        le=300,
        description="Seconds a request waits for a free database connection (PostgreSQL pool; "
        "SQLite: the process's one connection) before answering 503.",
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    workers: int = Field(1, ge=1, le=64, description="Number of web server processes.")
    worker_healthcheck_timeout: int = Field(
        60,
        ge=1,
        le=3600,
        description="Seconds a web server process may take to answer the supervisor's "
        "health check (uvicorn's `timeout_worker_healthcheck`) before it is restarted; "
        "a worker booting on a busy machine must not be killed by it.",
    )
    timezone: str = Field(
        "Asia/Shanghai", description="IANA time zone for opening hours and bookings."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Secret for signing sessions (at least 32 characters and 128 bits of "
        "entropy in production; `resourcemap keygen --secret` makes one). Unset in "
        "development: generated once and kept in the data directory.",
    )
    data_dir: Path = Field(
        Path("."),
        description="Directory where development keeps its generated secret key and data key "
        "(`.resourcemap-secrets.json`, mode 0600).",
    )
    tile_url: str = Field(
        "",
        description="Map tile URL template (e.g. `https://tiles.example/{z}/{x}/{y}.png`); "
        "empty shows areas and markers on a plain background, fully offline.",
    )
    tile_attribution: str = Field("", description="Attribution text shown for the map tiles.")
    map_attribution_prefix: str = Field(
        "Leaflet",
        description="Text before the tiles' attribution on maps (Leaflet's default adds a "
        "flag, usually removed on government sites); empty shows none.",
    )
    streets_file: str = Field(
        "",
        description="GeoJSON file of street lines for walking distance on the planner pages "
        "and API (`mode=walking`); empty offers straight-line distance only.",
    )
    dask_scheduler: str = Field(
        "",
        description="Address of a Dask scheduler (`tcp://host:8786`) whose workers compute "
        "coverage of a GeoParquet demand dataset (`resourcemap coverage --demand-parquet`); "
        "empty computes it in the command's own process.",
    )
    demand_dataset: Path | None = Field(
        None,
        description="GeoParquet demand dataset (a directory of files, e.g. the province demo's) "
        "that planners' background coverage jobs read, and the planner pages where no demand "
        "is imported; unset: `DATA_DIR/province-demand`.",
    )
    holidays_file: Path | None = Field(
        None,
        description="CSV of public holidays and weekend days worked instead (调休), one "
        "`date,day` a line (`2027-01-01,holiday`, `2027-02-20,workday`), for years the "
        "installed chinese-calendar does not know yet; read as each process starts.",
    )
    meili_url: str | None = Field(
        None, description="Meilisearch URL; unset uses the embedded search engine."
    )
    meili_key: SecretStr | None = Field(None, description="Meilisearch API key.")
    redis_url: SecretStr | None = Field(
        None,
        description="Redis URL (`redis://host:6379/0`) where every app process counts its "
        "request limits (sign-in, booking); unset counts them in the database. Needs the "
        "`redis` extra.",
    )
    search_follow_seconds: float = Field(
        1.0,
        ge=0,
        le=60,
        description="How often each app process checks the listing change log to bring its "
        "search index up to date (seconds; 0 checks on every search).",
    )
    search_index_dir: Path | None = Field(
        None,
        description="Directory where the app processes of one machine share their search "
        "index from 10,000 listings (built once, mapped by all); it must be this user's own "
        "and writable by nobody else. Unset: `resourcemap-search-UID` in the system's temp "
        "directory.",
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        "info", description="Log level: debug, info, warning, error or critical."
    )
    public_url: str = Field(
        "",
        description="Address residents reach the site at; used in links sent to them. Empty: "
        "this machine's address at the port served (http://127.0.0.1:PORT), as in development.",
    )
    data_keys: SecretStr | None = Field(
        None,
        description="Comma-separated Fernet keys that encrypt residents' contact details; the "
        "first encrypts, all decrypt (rotation). Required in production; unset in "
        "development: generated once and kept in the data directory.",
    )
    booking_retention_days: int = Field(
        180,
        ge=1,
        le=3650,
        description="Days after a booking's end before `resourcemap purge` deletes its "
        "contact details and note.",
    )
    waitlist_offer_minutes: int = Field(
        30,
        ge=1,
        le=1440,
        description="How long a freed seat is held for the next resident on the waitlist.",
    )
    booking_verify: Literal["off", "sms"] = Field(
        "off",
        description="`sms`: a resident's booking holds its seat until they type the 6-digit "
        "code texted to the booking's phone number (a phone number is then required; "
        "production needs the `webhook` sender); `off`: bookings are confirmed at once.",
    )
    booking_verify_hold_minutes: int = Field(
        10,
        ge=1,
        le=120,
        description="How long a booking waiting for its texted code holds the seat before it "
        "is released.",
    )
    booking_limit_per_address: int = Field(
        20,
        ge=0,
        description="Bookings and waitlist joins residents may send per minute from one "
        "network address, across all app processes (0: no limit).",
    )
    booking_limit_per_contact: int = Field(
        6,
        ge=0,
        description="Bookings and waitlist joins per hour that name one phone number or "
        "e-mail address, across all app processes (0: no limit); stops messages to a third party.",
    )
    booking_cap_per_contact: int = Field(
        3,
        ge=0,
        description="Most upcoming bookings of one service that may name one phone number or "
        "e-mail address at a time (0: no cap); past it 429 until one has passed or is "
        "cancelled. Staff bookings are not capped.",
    )
    booking_cap_per_address: int = Field(
        6,
        ge=0,
        description="Most upcoming bookings of one service that may be made from one network "
        "address at a time (0: no cap); a shared office or campus address may need more.",
    )
    notify_senders: str = Field(
        "log",
        description="Comma-separated notification senders: `log` (masked, default), `smtp`, "
        "`webhook` (SMS gateway).",
    )
    smtp_host: str = Field("", description="SMTP server for e-mail notifications.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_user: str = Field("", description="SMTP user name (empty: no login).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("", description="Sender address of e-mail notifications.")
    smtp_starttls: bool = Field(True, description="Use STARTTLS with the SMTP server.")
    sms_webhook_url: str = Field(
        "", description="HTTP endpoint of the SMS gateway that receives text messages."
    )
    sms_webhook_secret: SecretStr | None = Field(
        None, description="Secret for the HMAC-SHA256 signature of SMS webhook requests."
    )
    body_limit_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body accepted (JSON and forms), checked before anything "
        "reads it; larger is refused with 413.",
    )
    import_limit_bytes: int = Field(
        20 * 1_048_576,
        ge=1024,
        description="Largest upload accepted by the imports (files of listings, siting "
        "candidates), checked while it streams in.",
    )
    token_lifetime_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="Days an API token works after it is issued; then the script needs a new one.",
    )
    password_hash_concurrency: int = Field(
        2,
        ge=1,
        le=64,
        description="Password hashes (argon2: about 0.3 s of CPU and 64 MB each) computed at "
        "once per process, in worker threads; further sign-ins wait their turn.",
    )
    import_max_rows: int = Field(
        50_000,
        ge=1,
        description="Most rows (features, records) one upload through the web may import; "
        "more is refused with 413 as soon as the reader gets there.",
    )
    import_max_cells: int = Field(
        2_000_000,
        ge=1,
        description="Most cells one upload may hold; a zipped file (XLSX, a ZIP of tables) "
        "may also unpack to at most 128 bytes per cell. More is refused with 413.",
    )
    import_max_seconds: float = Field(
        60.0,
        gt=0,
        description="Most seconds reading one upload may take before it is refused with 413 "
        "(commands such as `resourcemap import` have no such limit).",
    )
    fixed_now: dt.datetime | None = Field(
        None,
        description="Development and tests only: the instant (ISO 8601 with its offset) the "
        "app, the worker and the commands take as now, so a run does not depend on the hour; "
        "production refuses it.",
    )
    run_worker: bool = Field(
        True,
        description="Run the booking worker (notifications, reminders, waitlist offers) in "
        "each app process; turn off where `resourcemap worker` runs on its own.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("database_url must start with sqlite:// or postgres://")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            if self.secret_key is None:
                raise ValueError(
                    "secret_key is unset; set RESOURCEMAP_SECRET_KEY in production "
                    "(`resourcemap keygen --secret` makes one)"
                )
            problem = weakness(self.secret_key.get_secret_value())
            if problem is not None:
                raise ValueError(
                    f"secret_key {problem}; set a random RESOURCEMAP_SECRET_KEY in production "
                    "(`resourcemap keygen --secret` makes one)"
                )
            if self.fixed_now is not None:
                raise ValueError("fixed_now stops the clock; it is for development and tests")
            if self.data_keys is None:
                raise ValueError(
                    "data_keys is unset; set RESOURCEMAP_DATA_KEYS in production "
                    "(`resourcemap keygen` makes one)"
                )
        return self

    @model_validator(mode="after")
    def _public_url_of_the_port_served(self) -> Settings:
        # A demo on another port sent links to :8000, where nothing answered.
        if not self.public_url.strip():
            host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
            if ":" in host:  # an IPv6 address
                host = f"[{host}]"
            object.__setattr__(self, "public_url", f"http://{host}:{self.port}")
        return self

    @model_validator(mode="after")
    def _codes_reach_phones_in_production(self) -> Settings:
        # The log sender never shows a text: with it alone no resident could confirm.
        if (
            self.environment is Environment.PRODUCTION
            and self.booking_verify == "sms"
            and "webhook" not in self.senders
        ):
            raise ValueError(
                "booking_verify=sms texts a code to residents: add `webhook` (the SMS "
                "gateway) to RESOURCEMAP_NOTIFY_SENDERS"
            )
        return self

    @field_validator("redis_url", "search_index_dir", "holidays_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # docker-compose passes every variable it names, set or not ("${VAR:-}"): an empty
        # one means "not configured", not a URL.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("host")
    @classmethod
    def _an_address(cls, value: str) -> str:
        # 999.1.1.1 was taken, then refused for a reason that was not its own.
        value = value.strip()
        if not value:
            return value  # every address
        try:
            ipaddress.ip_address(value)
        except ValueError:
            labels = value.split(".")
            if all(label.isdigit() for label in labels) or not all(
                HOST_LABEL.fullmatch(label) for label in labels
            ):
                raise ValueError(f"host {value!r} is no IP address or host name") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        # "DEBUG" passed the settings and was then refused by uvicorn's own option.
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _an_address_with_its_scheme(cls, value: str) -> str:
        # The start of every link texted or e-mailed to residents: "example.org" made
        # links no phone opens.
        if value.strip() and not value.strip().startswith(("https://", "http://")):
            raise ValueError(f"public_url {value!r} needs its scheme: https://{value.strip()}")
        return value.strip()

    @field_validator("tile_url")
    @classmethod
    def _a_tile_template(cls, value: str) -> str:
        value = value.strip()
        if value and (
            not value.startswith(("https://", "http://", "/"))
            or not all(part in value for part in ("{z}", "{x}"))
            or not ("{y}" in value or "{-y}" in value)  # {-y}: a TMS server's rows
        ):
            raise ValueError(
                "tile_url must be an address with {z}, {x} and {y} in it, e.g. "
                "https://tiles.example/{z}/{x}/{y}.png (or empty: no background tiles)"
            )
        return value

    @model_validator(mode="after")
    def _senders_have_what_they_need(self) -> Settings:
        # Said here, as a setting, not as a traceback from every server process at start.
        if "smtp" in self.senders and not (self.smtp_host.strip() and self.smtp_from.strip()):
            raise ValueError(
                "the smtp sender needs RESOURCEMAP_SMTP_HOST and RESOURCEMAP_SMTP_FROM"
            )
        if "webhook" in self.senders:
            if not self.sms_webhook_url.startswith(("http://", "https://")):
                raise ValueError(
                    "the webhook sender needs RESOURCEMAP_SMS_WEBHOOK_URL (http:// or https://)"
                )
            secret = self.sms_webhook_secret
            if secret is None or not secret.get_secret_value():
                raise ValueError("the webhook sender needs RESOURCEMAP_SMS_WEBHOOK_SECRET")
        return self

    @field_validator("fixed_now")
    @classmethod
    def _aware_instant(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("fixed_now needs its UTC offset, e.g. 2026-12-01T08:00:00+08:00")
        return value

    @field_validator("data_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
        try:
            for key in keys:
                Fernet(key.encode())
        except (ValueError, TypeError):
            raise ValueError(
                "data_keys must be Fernet keys (`resourcemap keygen` makes one)"
            ) from None
        if not keys:
            raise ValueError("data_keys is empty")
        return value

    @field_validator("notify_senders")
    @classmethod
    def _known_senders(cls, value: str) -> str:
        unknown = {s.strip() for s in value.split(",") if s.strip()} - set(SENDERS)
        if unknown:
            raise ValueError(f"unknown notification senders: {', '.join(sorted(unknown))}")
        return value

    @property
    def senders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.strip() for s in self.notify_senders.split(",") if s.strip()))

    @property
    def token_lifetime(self) -> dt.timedelta:
        return dt.timedelta(days=self.token_lifetime_days)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def signing_secret(self) -> str:
        """The secret key; ``resourcemap.keys.resolve`` sets it where none is configured."""
        if self.secret_key is None:
            raise RuntimeError("no secret key: pass the settings through keys.resolve first")
        return self.secret_key.get_secret_value()
