"""Settings from the environment, in one place.

A bad value stops start-up with one line that names the variable (`ConfigError`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

POLICY_PRESETS = ("default", "marketplace-2026")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _port(env: Mapping[str, str], name: str) -> int:
    """A TCP port, or 0 for none."""
    port = _int(env, name, 0, minimum=0)
    if port > 65535:
        raise ConfigError(f"{name} must be a TCP port (1-65535), got {port}")
    return port


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    scheme = urlparse(raw).scheme
    if scheme not in schemes:
        raise ConfigError(f"{name} must start with one of {', '.join(s + '://' for s in schemes)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str
    redis_url: str | None
    secret: str
    base_url: str
    mail_domain: str
    mail_from: str
    smtp_url: str | None
    smtp_host: str
    smtp_port: int
    upload_dir: Path
    max_upload_bytes: int
    max_message_chars: int
    db_pool_size: int
    max_title_chars: int
    max_page_size: int
    max_inbound_mail_bytes: int
    policy: str
    test_clock: bool
    token_ttl_days: int
    extra: dict[str, str] = field(default_factory=dict)
    # Email bridge: events for one member within this window go out as one mail.
    mail_batch_seconds: int = 20
    # Inbound SMTP: accepted RCPTs per minute, per reply token and per client IP (451 4.7.1 past it).
    smtp_rate_per_token: int = 30
    smtp_rate_per_ip: int = 600
    # Live hub (/ws). Redis channel and key prefix, so tests and tenants sharing a Redis never meet.
    redis_prefix: str = "workroom:"
    ws_max_frame_bytes: int = 128 * 1024          # a bigger client frame is closed with 1009
    ws_send_queue_bytes: int = 1024 * 1024        # per socket; past it the socket is closed with 4008
    ws_posts_per_window: int = 60                 # posts per connection per window; past it 4029
    ws_ops_per_window: int = 600                  # any op per connection per window; past it 4029
    ws_rate_window_seconds: int = 10
    hub_check_seconds: float = 2.0                # listener health check and catch-up from the log
    presence_ttl_seconds: int = 30                # a dead process's presence fades after this
    # Whether `workroom smtp` also processes the mail it stores (else only `workroom worker` does).
    smtp_process_inline: bool = True
    # HTTP writes (POST, PUT, PATCH, DELETE) per person per minute, per process; past it 429.
    http_writes_per_minute: int = 300
    # Who may read /metrics from elsewhere than this machine (Bearer); the smtp/worker processes' port.
    metrics_token: str | None = None
    metrics_port: int = 0

    @property
    def embedded(self) -> bool:
        """One process, SQLite and the memory broker: the `make run` shape."""
        return self.database_url.startswith("sqlite") and self.redis_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        var_dir = Path(env.get("WORKROOM_VAR_DIR") or "var").resolve()
        database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'workroom.db'}"
        if not (database_url.startswith("sqlite+aiosqlite://") or database_url.startswith("postgresql+asyncpg://")):
            raise ConfigError(
                f"DATABASE_URL must be sqlite+aiosqlite:///PATH or postgresql+asyncpg://..., got {database_url!r}"
            )
        redis_url = _url(env, "REDIS_URL", ("redis", "rediss", "unix"))
        smtp_url = _url(env, "SMTP_URL", ("smtp", "smtps"))
        policy = env.get("WORKROOM_POLICY") or "default"
        if policy not in POLICY_PRESETS:
            raise ConfigError(f"WORKROOM_POLICY must be one of {', '.join(POLICY_PRESETS)}, got {policy!r}")
        base_url = (env.get("WORKROOM_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
        if urlparse(base_url).scheme not in ("http", "https"):
            raise ConfigError(f"WORKROOM_BASE_URL must be an http(s) URL, got {base_url!r}")
        secret = env.get("WORKROOM_SECRET") or ""
        if secret and len(secret) < 32:
            raise ConfigError("WORKROOM_SECRET must be at least 32 characters")
        if not secret:
            if not database_url.startswith("sqlite"):
                raise ConfigError("WORKROOM_SECRET must be set when DATABASE_URL is not the embedded SQLite file")
            secret = _embedded_secret(var_dir)
        mail_domain = env.get("WORKROOM_MAIL_DOMAIN") or "workroom.localhost"
        metrics_token = env.get("WORKROOM_METRICS_TOKEN") or None
        if metrics_token is not None and len(metrics_token) < 16:
            raise ConfigError("WORKROOM_METRICS_TOKEN must be at least 16 characters")
        return cls(
            var_dir=var_dir,
            database_url=database_url,
            redis_url=redis_url,
            secret=secret,
            base_url=base_url,
            mail_domain=mail_domain,
            mail_from=env.get("WORKROOM_MAIL_FROM") or f"Workroom <notifications@{mail_domain}>",
            smtp_url=smtp_url,
            smtp_host=env.get("WORKROOM_SMTP_HOST") or "127.0.0.1",
            smtp_port=_int(env, "WORKROOM_SMTP_PORT", 8025, minimum=0),
            upload_dir=Path(env.get("WORKROOM_UPLOAD_DIR") or (var_dir / "uploads")).resolve(),
            max_upload_bytes=_int(env, "WORKROOM_MAX_UPLOAD_BYTES", 25 * 1024 * 1024, minimum=1),
            max_message_chars=_int(env, "WORKROOM_MAX_MESSAGE_CHARS", 20_000, minimum=1),
            db_pool_size=_int(env, "WORKROOM_DB_POOL_SIZE", 10, minimum=1),
            max_title_chars=_int(env, "WORKROOM_MAX_TITLE_CHARS", 200, minimum=1),
            max_page_size=_int(env, "WORKROOM_MAX_PAGE_SIZE", 500, minimum=1),
            max_inbound_mail_bytes=_int(env, "WORKROOM_MAX_INBOUND_MAIL_BYTES", 30 * 1024 * 1024, minimum=1),
            policy=policy,
            test_clock=_bool(env, "WORKROOM_TEST_CLOCK", False),
            token_ttl_days=_int(env, "WORKROOM_TOKEN_TTL_DAYS", 30, minimum=1),
            mail_batch_seconds=_int(env, "WORKROOM_MAIL_BATCH_SECONDS", 20, minimum=0),
            smtp_rate_per_token=_int(env, "WORKROOM_SMTP_RATE_PER_TOKEN", 30, minimum=1),
            smtp_rate_per_ip=_int(env, "WORKROOM_SMTP_RATE_PER_IP", 600, minimum=1),
            redis_prefix=env.get("WORKROOM_REDIS_PREFIX") or "workroom:",
            ws_max_frame_bytes=_int(env, "WORKROOM_WS_MAX_FRAME_BYTES", 128 * 1024, minimum=1024),
            ws_send_queue_bytes=_int(env, "WORKROOM_WS_SEND_QUEUE_BYTES", 1024 * 1024, minimum=4096),
            ws_posts_per_window=_int(env, "WORKROOM_WS_POSTS_PER_WINDOW", 60, minimum=1),
            ws_ops_per_window=_int(env, "WORKROOM_WS_OPS_PER_WINDOW", 600, minimum=1),
            ws_rate_window_seconds=_int(env, "WORKROOM_WS_RATE_WINDOW_SECONDS", 10, minimum=1),
            hub_check_seconds=_int(env, "WORKROOM_HUB_CHECK_MS", 2000, minimum=50) / 1000,
            presence_ttl_seconds=_int(env, "WORKROOM_PRESENCE_TTL_SECONDS", 30, minimum=2),
            smtp_process_inline=_bool(env, "WORKROOM_SMTP_PROCESS_INLINE", True),
            http_writes_per_minute=_int(env, "WORKROOM_HTTP_WRITES_PER_MINUTE", 300, minimum=1),
            metrics_token=metrics_token,
            metrics_port=_port(env, "WORKROOM_METRICS_PORT"),
        )


def _embedded_secret(var_dir: Path) -> str:
    """The embedded shape generates its signing secret once and keeps it in var/."""
    path = var_dir / "secret"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
