"""Settings: one frozen object, read once (from the command line and the environment) at start."""

from __future__ import annotations

import logging
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib import resources
from pathlib import Path

from live.domain.programme import Programme, parse_programme

log = logging.getLogger(__name__)

DEFAULT_PROGRAMME = "rencontres-2020.toml"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None  # None: the embedded in-memory store and bus
    programme_path: Path | None = None  # None: the demo programme shipped with the package
    public_url: str | None = None  # how users reach us, for printed links (default: host:port)
    # Signs the links. Never stored in Redis: what Redis holds must not let anyone sign a link.
    # None: read from (or created in) `secret_file`; see `resolve_secret`.
    secret: str | None = None
    secret_file: Path | None = None
    allowed_origins: tuple[str, ...] = ()  # besides the service's own origin
    token_days: int = 30
    key_prefix: str = "tribune"
    clock_override: datetime | None = None  # programme clock for rehearsals ("what is live now")
    print_links: bool = False
    # One person, one vote (live/limits.py, live/registrants.py; README "One person, one vote").
    # New participant identities per network address (IPv6 by /64): a burst, then so many a
    # minute; voters per address in one poll and in one question's upvotes (0: no limit); how long
    # a ban refuses new identities from the banned participant's address. Registered mode: the
    # registrants file, where to write their personal links, and whether the public link works.
    identity_burst: int = 60
    identities_per_minute: float = 20.0
    address_ballots: int = 200
    address_upvotes: int = 200
    ban_hold: float = 3600.0
    registrants_path: Path | None = None
    links_out: Path | None = None
    public_link: bool = True
    # Media relay. ICE servers are handed to studios and viewers (WHIP/WHEP Link headers) and used
    # by the relay itself; none by default, so it works on a LAN or on loopback with no internet.
    ice_servers: tuple[str, ...] = ()  # stun:host:port, turn:host:port?transport=udp, turns:…
    # TURN credentials are minted per peer connection from this secret (coturn's use-auth-secret,
    # live/media/ice.py) and expire after turn_ttl seconds: never one static password for all.
    turn_secret: str | None = None
    turn_ttl: int = 4 * 3600
    # The addresses the relay offers as host candidates (None: every interface but loopback, as
    # aioice does). Loopback only keeps all media traffic on the machine: rehearsals and tests.
    media_addresses: tuple[str, ...] | None = None
    max_viewers: int = 400  # per process; beyond it WHEP answers 503 with Retry-After
    # Media floods and leaks (docs/media.md, "Limits"). WHEP viewers per process from one network
    # address (IPv6: one /64; a venue's NAT puts many behind one) and per personal link (studio,
    # moderator, stage, admin, registrant: never the public participant link, everyone's); beyond
    # either, 429 with Retry-After. Clients' ICE candidates in private, CGNAT, link-local (and
    # loopback) ranges are never tried unless `private_candidates` (an event on a LAN).
    max_viewers_per_address: int = 200
    max_viewers_per_token: int = 10
    private_candidates: bool = False
    # With Redis, relay workers pass a session's frames to each other over TCP (live/media/cluster.py):
    # the address their feed servers listen on and announce. Another machine's workers need a LAN one.
    feed_address: str = "127.0.0.1"
    # Several processes on one port (run.py --workers): this process's index, and how many there are.
    worker: int = 0
    workers: int = 1
    metrics_token: str | None = None  # Bearer token for /metrics from other than loopback
    # Where the origin worker records every session on air (live/media/recording.py); None: off.
    # Below `recordings_min_free` bytes free there, recording stops with an alarm.
    recordings: Path | None = None
    recordings_min_free: int = 1 << 30
    # The reverse proxies whose X-Forwarded-For (and -Proto) is believed: addresses or networks.
    # Per-address limits see the real client only through them; anyone else could forge the header.
    # Empty: nobody's (tribune faces the internet directly).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # Floods and DNS rebinding (live/web/guard.py, live/web/slowloris.py). Host names answered
    # besides the public URL's, the listening address and loopback's ("*": any, no check).
    allowed_hosts: tuple[str, ...] = ()
    # HTTP requests in progress plus WebSockets, per process: per client address (IPv6 by /64;
    # a venue's NAT puts hundreds behind one; loopback not limited) and in all.
    max_connections_per_address: int = 500
    max_connections: int = 10_000
    request_head_timeout: float = 5.0  # seconds a connection has to send a whole request head
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
            "secret_file": Path(env["TRIBUNE_SECRET_FILE"]) if env.get("TRIBUNE_SECRET_FILE")
            else None,
            "allowed_origins": _csv(env.get("TRIBUNE_ALLOWED_ORIGINS", "")),
        }
        if env.get("TRIBUNE_ICE_SERVERS"):
            values["ice_servers"] = _csv(env["TRIBUNE_ICE_SERVERS"])
        values.update(_turn_values(env))
        if env.get("TRIBUNE_MEDIA_ADDRESSES"):
            values["media_addresses"] = _csv(env["TRIBUNE_MEDIA_ADDRESSES"])
        if env.get("TRIBUNE_MAX_VIEWERS"):
            values["max_viewers"] = int(env["TRIBUNE_MAX_VIEWERS"])
        for name in ("max_viewers_per_address", "max_viewers_per_token"):  # media floods
            if env.get(f"TRIBUNE_{name.upper()}"):
                values[name] = int(env[f"TRIBUNE_{name.upper()}"])
        values["private_candidates"] = env.get("TRIBUNE_PRIVATE_CANDIDATES", "").lower() in (
            "1", "true", "yes", "on")
        if env.get("TRIBUNE_FEED_ADDRESS"):
            values["feed_address"] = env["TRIBUNE_FEED_ADDRESS"]
        values["metrics_token"] = env.get("TRIBUNE_METRICS_TOKEN") or None
        if env.get("TRIBUNE_RECORDINGS"):
            values["recordings"] = Path(env["TRIBUNE_RECORDINGS"])
        if env.get("TRIBUNE_RECORDINGS_MIN_FREE"):  # bytes
            values["recordings_min_free"] = int(env["TRIBUNE_RECORDINGS_MIN_FREE"])
        if "TRIBUNE_TRUSTED_PROXIES" in env:  # set but empty: trust no proxy
            values["trusted_proxies"] = _csv(env["TRIBUNE_TRUSTED_PROXIES"])
        values.update(_flood_values(env))
        if env.get("TRIBUNE_KEY_PREFIX"):  # Redis keys and channels; several events, one Redis
            values["key_prefix"] = env["TRIBUNE_KEY_PREFIX"]
        if env.get("TRIBUNE_CLOCK"):
            values["clock_override"] = datetime.fromisoformat(env["TRIBUNE_CLOCK"])
        values.update(_vote_values(env))
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.secret is not None and len(settings.secret) < MIN_SECRET:
            raise ValueError(f"TRIBUNE_SECRET must be at least {MIN_SECRET} characters")
        if any(url.startswith(("turn:", "turns:")) for url in settings.ice_servers) \
                and not settings.turn_secret:
            raise ValueError("a turn: server needs TRIBUNE_TURN_SECRET or TRIBUNE_TURN_SECRET_FILE "
                             "(coturn's static-auth-secret)")
        return settings


MIN_SECRET = 16
# Where a service on Redis keeps the secret it generated, when none is configured: its links then
# survive restarts, and every worker on this machine signs with it.
DEFAULT_SECRET_FILE = Path(".tribune-secret")


def resolve_secret(settings: Settings) -> Settings:
    """The settings with the signing secret every worker of this service will use.

    Configured (TRIBUNE_SECRET) wins; then a secret file (TRIBUNE_SECRET_FILE, created with a random
    secret if missing); in memory, a random one (the state dies with the process anyway); on Redis,
    `.tribune-secret` in the working directory. Several machines on one Redis need the same secret
    configured: nothing else shares it.
    """
    if settings.secret is not None:
        return settings
    path = settings.secret_file
    if path is None and settings.redis_url is None:
        return replace(settings, secret=secrets.token_urlsafe(32))
    return replace(settings, secret=read_or_create_secret(path or DEFAULT_SECRET_FILE))


def read_or_create_secret(path: Path) -> str:
    try:
        secret = path.read_text("utf-8").strip()
    except FileNotFoundError:
        secret = secrets.token_urlsafe(32)
        # Created readable by its owner only, and never replaced: an existing file is not rewritten.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secret + "\n")
        log.warning("no TRIBUNE_SECRET: generated one in %s (keep it; links are signed with it)",
                    path.resolve())
        return secret
    if len(secret) < MIN_SECRET:
        raise ValueError(f"the secret in {path} must be at least {MIN_SECRET} characters")
    return secret


# TURN (live/media/ice.py). A static username and password would be handed, in clear, to anyone
# holding a viewer link (even the public one): they are refused rather than silently ignored.
def _turn_values(env: Mapping[str, str]) -> dict[str, object]:
    if env.get("TRIBUNE_ICE_USERNAME") or env.get("TRIBUNE_ICE_CREDENTIAL"):
        raise ValueError("TRIBUNE_ICE_USERNAME/TRIBUNE_ICE_CREDENTIAL are gone: a static TURN "
                         "password reached every viewer. Set TRIBUNE_TURN_SECRET (or _FILE) to "
                         "coturn's static-auth-secret (use-auth-secret) instead")
    values: dict[str, object] = {}
    secret = env.get("TRIBUNE_TURN_SECRET") or None
    if env.get("TRIBUNE_TURN_SECRET_FILE"):
        secret = Path(env["TRIBUNE_TURN_SECRET_FILE"]).read_text("utf-8").strip()
    if secret is not None:
        if len(secret) < MIN_SECRET:
            raise ValueError(f"the TURN secret must be at least {MIN_SECRET} characters")
        values["turn_secret"] = secret
    if env.get("TRIBUNE_TURN_TTL"):
        ttl = int(env["TRIBUNE_TURN_TTL"])
        if not 60 <= ttl <= 7 * 86400:
            raise ValueError("TRIBUNE_TURN_TTL is in seconds, from 60 to 604800")
        values["turn_ttl"] = ttl
    return values


# Floods and DNS rebinding (live/web/guard.py, live/web/slowloris.py).
def _flood_values(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    if env.get("TRIBUNE_ALLOWED_HOSTS"):
        values["allowed_hosts"] = _csv(env["TRIBUNE_ALLOWED_HOSTS"])
    for name, convert in (("max_connections_per_address", int), ("max_connections", int),
                          ("request_head_timeout", float)):
        if env.get(f"TRIBUNE_{name.upper()}"):
            value = convert(env[f"TRIBUNE_{name.upper()}"])
            if value <= 0:
                raise ValueError(f"TRIBUNE_{name.upper()} must be positive")
            values[name] = value
    return values


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def load_programme(path: Path | None) -> Programme:
    """Read the programme file (TOML), or the shipped demo programme."""
    if path is None:
        text = resources.files("live.data").joinpath(DEFAULT_PROGRAMME).read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return parse_programme(tomllib.loads(text))


# One person, one vote: TRIBUNE_IDENTITY_BURST, TRIBUNE_IDENTITIES_PER_MINUTE,
# TRIBUNE_ADDRESS_BALLOTS, TRIBUNE_ADDRESS_UPVOTES, TRIBUNE_BAN_HOLD (seconds),
# TRIBUNE_REGISTRANTS (file), TRIBUNE_PUBLIC_LINK (on/off).
def _vote_values(env: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, kind in (("identity_burst", int), ("identities_per_minute", float),
                       ("address_ballots", int), ("address_upvotes", int), ("ban_hold", float)):
        if env.get(f"TRIBUNE_{name.upper()}"):
            value = kind(env[f"TRIBUNE_{name.upper()}"])
            if value < 0:
                raise ValueError(f"TRIBUNE_{name.upper()} cannot be negative")
            values[name] = value
    if env.get("TRIBUNE_REGISTRANTS"):
        values["registrants_path"] = Path(env["TRIBUNE_REGISTRANTS"])
    if env.get("TRIBUNE_PUBLIC_LINK"):
        values["public_link"] = env["TRIBUNE_PUBLIC_LINK"].lower() not in ("0", "false", "no", "off")
    return values
