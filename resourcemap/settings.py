"""All configuration, read in one place: environment (``RESOURCEMAP_*``) → ``.env`` → default."""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"
SENDERS = ("log", "smtp", "webhook")


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
        description="`development` or `production`; production refuses placeholder secrets.",
    )
    database_url: str = Field(
        "sqlite://resourcemap.sqlite3",
        description="Database URL: `sqlite://PATH` (embedded default) or "
        "`postgres://user:password@host:port/db` (PostgreSQL with PostGIS).",
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    workers: int = Field(1, ge=1, le=64, description="Number of web server processes.")
    timezone: str = Field(
        "Asia/Shanghai", description="IANA time zone for opening hours and bookings."
    )
    secret_key: SecretStr = Field(
        SecretStr(PLACEHOLDER_SECRET),
        description="Secret for signing sessions and tokens; must be changed in production.",
    )
    tile_url: str = Field(
        "",
        description="Map tile URL template (e.g. `https://tiles.example/{z}/{x}/{y}.png`); "
        "empty shows areas and markers on a plain background, fully offline.",
    )
    tile_attribution: str = Field("", description="Attribution text shown for the map tiles.")
    streets_file: str = Field(
        "",
        description="GeoJSON file of street lines for walking distance on the planner pages "
        "and API (`mode=walking`); empty offers straight-line distance only.",
    )
    meili_url: str | None = Field(
        None, description="Meilisearch URL; unset uses the embedded search engine."
    )
    meili_key: SecretStr | None = Field(None, description="Meilisearch API key.")
    search_follow_seconds: float = Field(
        1.0,
        ge=0,
        le=60,
        description="How often each app process checks the listing change log to bring its "
        "search index up to date (seconds; 0 checks on every search).",
    )
    log_level: str = Field("info", description="Log level: debug, info, warning or error.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Address residents reach the site at; used in links sent to them.",
    )
    data_keys: SecretStr | None = Field(
        None,
        description="Comma-separated Fernet keys that encrypt residents' contact details; the "
        "first encrypts, all decrypt (rotation). Unset derives one from the secret key "
        "(development only).",
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
    booking_limit_per_address: int = Field(
        20,
        ge=0,
        description="Bookings and waitlist joins residents may send per minute from one "
        "network address, per app process (0: no limit).",
    )
    booking_limit_per_contact: int = Field(
        6,
        ge=0,
        description="Bookings and waitlist joins per hour that name one phone number or "
        "e-mail address, per app process (0: no limit); stops messages to a third party.",
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
            secret = self.secret_key.get_secret_value()
            if secret == PLACEHOLDER_SECRET or len(secret) < 32:
                raise ValueError(
                    "secret_key is a placeholder or shorter than 32 characters; "
                    "set RESOURCEMAP_SECRET_KEY in production"
                )
            if self.data_keys is None:
                raise ValueError(
                    "data_keys is unset; set RESOURCEMAP_DATA_KEYS in production "
                    "(`resourcemap keygen` makes one)"
                )
        return self

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
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
