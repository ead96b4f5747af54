"""Start tribune: `python run.py [--host H] [--port P] [--redis URL] [--workers N] [--programme FILE]`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from live.config import Settings
from live.registrants import check_registered_mode
from live.workers import WorkersError, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--redis", dest="redis_url", metavar="URL",
                        help="Redis URL (e.g. redis://127.0.0.1:6379/0); default: in memory")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="service processes on the one port (above 1 needs --redis)")
    parser.add_argument("--programme", dest="programme_path", type=Path, metavar="FILE",
                        help="programme file (TOML); default: the demo programme")
    parser.add_argument("--public-url", help="base URL users reach, for the printed links")
    parser.add_argument("--allow-origin", action="append", dest="allowed_origins", default=None,
                        metavar="ORIGIN", help="extra allowed WebSocket origin (repeatable)")
    parser.add_argument("--ice-server", action="append", dest="ice_servers", default=None,
                        metavar="URL", help="STUN/TURN server for the video relay and its clients "
                        "(repeatable; TURN credentials are minted from TRIBUNE_TURN_SECRET)")
    parser.add_argument("--media-address", action="append", dest="media_addresses", default=None,
                        metavar="IP", help="address the video relay offers (repeatable; default: "
                        "every interface but loopback; 127.0.0.1 keeps video on this machine)")
    parser.add_argument("--trusted-proxy", action="append", dest="trusted_proxies", default=None,
                        metavar="IP", help="reverse proxy whose X-Forwarded-For is believed (address "
                        "or network, repeatable; default: 127.0.0.1 and ::1)")
    parser.add_argument("--allowed-host", action="append", dest="allowed_hosts", default=None,
                        metavar="NAME", help="Host header name answered besides the public URL's "
                        "and loopback's (repeatable; * turns the check off)")
    parser.add_argument("--private-candidates", action="store_true", default=None,
                        help="let the video relay try clients' private, CGNAT and link-local "
                        "addresses (an event on a LAN; off on the internet)")
    # One person, one vote: registered mode (live/registrants.py, README).
    parser.add_argument("--registrants", type=Path, metavar="FILE", help="registrants (CSV: name, "
                        "organisation, email, language): each gets a personal participant link")
    parser.add_argument("--links-out", type=Path, metavar="FILE", help="write the registrants' "
                        "personal links there at start (CSV for a mail merge)")
    parser.add_argument("--no-public-link", action="store_true", help="registered participants "
                        "only: the public participant link is refused")
    parser.add_argument("--recordings", type=Path, metavar="DIR", help="record every session on "
                        "air into DIR (WebM or Matroska, no re-encoding; default: no recording)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env(
        host=args.host, port=args.port, redis_url=args.redis_url,
        programme_path=args.programme_path, public_url=args.public_url,
        allowed_origins=tuple(args.allowed_origins) if args.allowed_origins else None,
        ice_servers=tuple(args.ice_servers) if args.ice_servers else None,
        media_addresses=tuple(args.media_addresses) if args.media_addresses else None,
        trusted_proxies=tuple(args.trusted_proxies) if args.trusted_proxies else None,
        allowed_hosts=tuple(args.allowed_hosts) if args.allowed_hosts else None,
        private_candidates=args.private_candidates,
        registrants_path=args.registrants, links_out=args.links_out,
        public_link=False if args.no_public_link else None,
        recordings=args.recordings, workers=args.workers, print_links=True)
    try:
        check_registered_mode(settings)
    except ValueError as exc:
        sys.exit(f"run.py: {exc}")
    try:
        serve(settings, args.log_level)
    except WorkersError as exc:
        sys.exit(f"run.py: {exc}")


if __name__ == "__main__":
    main()
