"""The production server: uvicorn as chosen by the benchmarks (docs/benchmarks.md)."""

import argparse
import os
import resource

import uvicorn

from cms import httpprotocol
from cms.env import env_float, env_int, env_str

# Stations reconnect together after an outage: the kernel must queue their handshakes while
# the workers are busy (capped by net.core.somaxconn).
LISTEN_BACKLOG = 16384


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard one: every station holds a socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def uvicorn_options(host: str, port: int, workers: int) -> dict:
    """The uvicorn settings of the production server."""
    return {
        "host": host,
        "port": port,
        "workers": workers,
        # The sans-I/O websockets protocol and uvloop were the fastest in bench/ (S2, S3).
        "ws": "websockets-sansio",
        "loop": "uvloop",
        # By import path: with several workers uvicorn pickles its config into each process. The
        # import above reads HTTP_HEADER_TIMEOUT, so a bad value stops start-up here.
        "http": f"{httpprotocol.__name__}:{httpprotocol.BoundedHttpToolsProtocol.__name__}",
        # Idle time allowed between two requests of a keep-alive connection (uvicorn's default).
        "timeout_keep_alive": 5,
        "lifespan": "off",
        "access_log": False,
        # uvicorn logs every WebSocket open and close at INFO: thousands a second in a storm.
        "log_level": env_str("SERVER_LOG_LEVEL", "warning").lower(),
        "backlog": LISTEN_BACKLOG,
        # Stations send Heartbeats and WebSocket pings of their own; a server ping every 20 s to
        # every station is pure overhead at 20,000 of them.
        "ws_ping_interval": env_float("WS_PING_INTERVAL", 120.0),
        "ws_ping_timeout": env_float("WS_PING_TIMEOUT", 60.0),
        "ws_per_message_deflate": False,
        # uvicorn's default (16 MiB) lets every station make the process buffer that much; an
        # OCPP frame over OCPP_MAX_FRAME_BYTES is refused anyway, one over this closes the socket.
        "ws_max_size": env_int("WS_MAX_SIZE", 1048576, minimum=65536),
        "proxy_headers": True,
        "forwarded_allow_ips": env_str("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }


def main(argv=None) -> None:
    """Serve cms.asgi with uvicorn."""
    parser = argparse.ArgumentParser(description=__doc__)
    # Loopback, like FORWARDED_ALLOW_IPS: the TLS proxy runs beside it. HOST=0.0.0.0 when the
    # proxy (or a container's port mapping) reaches it from elsewhere.
    parser.add_argument("--host", default=env_str("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=0, maximum=65535))
    parser.add_argument(
        "--workers",
        type=int,
        default=env_int("WEB_CONCURRENCY", 1, minimum=1),
        help="server processes; one per core",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
    raise_open_file_limit()
    uvicorn.run("cms.asgi:application", **uvicorn_options(args.host, args.port, args.workers))


if __name__ == "__main__":
    main()
