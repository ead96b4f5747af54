"""Settings: one frozen object, read once (from the command line and the environment) at start."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

from live.domain.programme import Programme, parse_programme

DEFAULT_PROGRAMME = "rencontres-2020.toml"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None  # None: the embedded in-memory store and bus
    programme_path: Path | None = None  # None: the demo programme shipped with the package
    public_url: str | None = None  # how users reach us, for printed links (default: host:port)
    secret: str | None = None  # None: generated (memory) or shared through Redis
    allowed_origins: tuple[str, ...] = ()  # besides the service's own origin
    token_days: int = 30
    key_prefix: str = "tribune"
    clock_override: datetime | None = None  # programme clock for rehearsals ("what is live now")
    print_links: bool = False
    # Media relay. ICE servers are handed to studios and viewers (WHIP/WHEP Link headers) and used
    # by the relay itself; none by default, so it works on a LAN or on loopback with no internet.
    ice_servers: tuple[str, ...] = ()  # stun:host:port, turn:host:port?transport=udp, turns:…
    ice_username: str | None = None  # for the turn: servers
    ice_credential: str | None = None
    # The addresses the relay offers as host candidates (None: every interface but loopback, as
    # aioice does). Loopback only keeps all media traffic on the machine: rehearsals and tests.
    media_addresses: tuple[str, ...] | None = None
    max_viewers: int = 400  # per process; beyond it WHEP answers 503 with Retry-After
    # With Redis, relay workers pass a session's frames to each other over TCP (live/media/cluster.py):
    # the address their feed servers listen on and announce. Another machine's workers need a LAN one.
    feed_address: str = "127.0.0.1"
    # Several processes on one port (run.py --workers): this process's index, and how many there are.
    worker: int = 0
    workers: int = 1
    metrics_token: str | None = None  # Bearer token for /metrics from other than loopback
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def store_url(self) -> str:
        return self.redis_url or "memory://"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Environment variables (TRIBUNE_*), overridden by explicit values (the command line)."""
        env = os.environ
        values: dict[str, object] = {
            "redis_url": env.get("TRIBUNE_REDIS_URL") or None,
            "programme_path": Path(env["TRIBUNE_PROGRAMME"]) if env.get("TRIBUNE_PROGRAMME")
            else None,
            "public_url": env.get("TRIBUNE_PUBLIC_URL") or None,
            "secret": env.get("TRIBUNE_SECRET") or None,
            "allowed_origins": _csv(env.get("TRIBUNE_ALLOWED_ORIGINS", "")),
        }
        if env.get("TRIBUNE_ICE_SERVERS"):
            values["ice_servers"] = _csv(env["TRIBUNE_ICE_SERVERS"])
        values["ice_username"] = env.get("TRIBUNE_ICE_USERNAME") or None
        values["ice_credential"] = env.get("TRIBUNE_ICE_CREDENTIAL") or None
        if env.get("TRIBUNE_MEDIA_ADDRESSES"):
            values["media_addresses"] = _csv(env["TRIBUNE_MEDIA_ADDRESSES"])
        if env.get("TRIBUNE_MAX_VIEWERS"):
            values["max_viewers"] = int(env["TRIBUNE_MAX_VIEWERS"])
        if env.get("TRIBUNE_FEED_ADDRESS"):
            values["feed_address"] = env["TRIBUNE_FEED_ADDRESS"]
        values["metrics_token"] = env.get("TRIBUNE_METRICS_TOKEN") or None
        if env.get("TRIBUNE_KEY_PREFIX"):  # Redis keys and channels; several events, one Redis
            values["key_prefix"] = env["TRIBUNE_KEY_PREFIX"]
        if env.get("TRIBUNE_CLOCK"):
            values["clock_override"] = datetime.fromisoformat(env["TRIBUNE_CLOCK"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.secret is not None and len(settings.secret) < 16:
            raise ValueError("TRIBUNE_SECRET must be at least 16 characters")
        return settings


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def load_programme(path: Path | None) -> Programme:
    """Read the programme file (TOML), or the shipped demo programme."""
    if path is None:
        text = resources.files("live.data").joinpath(DEFAULT_PROGRAMME).read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return parse_programme(tomllib.loads(text))
