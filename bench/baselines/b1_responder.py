"""Baseline b1: a raw websockets OCPP 1.6 responder with constant answers, W processes, one port."""

import argparse
import json
import multiprocessing

import uvloop
from websockets.asyncio.server import serve

from bench.loadgen import raise_open_file_limit

CURRENT_TIME = "2026-01-01T00:00:00.000Z"
# A valid CALLRESULT payload per action a station sends, encoded once.
RESULTS = {
    action: json.dumps(payload, separators=(",", ":"))
    for action, payload in {
        "BootNotification": {"status": "Accepted", "currentTime": CURRENT_TIME, "interval": 300},
        "Heartbeat": {"currentTime": CURRENT_TIME},
        "StatusNotification": {},
        "Authorize": {"idTagInfo": {"status": "Accepted"}},
        "StartTransaction": {"transactionId": 1, "idTagInfo": {"status": "Accepted"}},
        "StopTransaction": {"idTagInfo": {"status": "Accepted"}},
        "MeterValues": {},
        "DataTransfer": {"status": "Accepted"},
        "DiagnosticsStatusNotification": {},
        "FirmwareStatusNotification": {},
    }.items()
}
# Same accept queue as the product (cms.serve.LISTEN_BACKLOG), for the reconnect storm.
LISTEN_BACKLOG = 16384


async def respond(ws) -> None:
    """Answer every CALL with the constant result of its action."""
    async for text in ws:
        message = json.loads(text)
        if message[0] == 2:
            await ws.send(f"[3,{json.dumps(message[1])},{RESULTS.get(message[2], '{}')}]")


async def serve_forever(host: str, port: int) -> None:
    async with serve(
        respond,
        host,
        port,
        subprotocols=["ocpp1.6"],
        compression=None,
        ping_interval=None,
        max_queue=4,
        reuse_port=True,
        backlog=LISTEN_BACKLOG,
    ) as server:
        await server.serve_forever()


def run_worker(host: str, port: int) -> None:
    raise_open_file_limit()
    uvloop.run(serve_forever(host, port))


def main(argv=None) -> None:
    """Run W responder processes sharing the port (SO_REUSEPORT spreads the connections)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.workers == 1:
        run_worker(args.host, args.port)
        return
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=run_worker, args=(args.host, args.port), daemon=True)
        for _ in range(args.workers)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
