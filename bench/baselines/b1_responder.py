"""Baseline b1: a raw websockets OCPP 1.6 / 2.0.1 responder with constant answers, W processes."""

import argparse
import json
import multiprocessing

import uvloop
from websockets.asyncio.server import serve

from bench.loadgen import raise_open_file_limit

CURRENT_TIME = "2026-01-01T00:00:00.000Z"
# Newest first, as the product negotiates: the first of these a station offers is spoken.
SUBPROTOCOLS = ["ocpp2.0.1", "ocpp1.6"]
BOOT = {"status": "Accepted", "currentTime": CURRENT_TIME, "interval": 300}
ACCEPTED_TOKEN = {"status": "Accepted"}
# A valid CALLRESULT payload per subprotocol and action a station sends, encoded once.
RESULTS = {
    subprotocol: {
        action: json.dumps(payload, separators=(",", ":")) for action, payload in results.items()
    }
    for subprotocol, results in {
        "ocpp1.6": {
            "BootNotification": BOOT,
            "Heartbeat": {"currentTime": CURRENT_TIME},
            "StatusNotification": {},
            "Authorize": {"idTagInfo": ACCEPTED_TOKEN},
            "StartTransaction": {"transactionId": 1, "idTagInfo": ACCEPTED_TOKEN},
            "StopTransaction": {"idTagInfo": ACCEPTED_TOKEN},
            "MeterValues": {},
            "DataTransfer": {"status": "Accepted"},
            "DiagnosticsStatusNotification": {},
            "FirmwareStatusNotification": {},
        },
        "ocpp2.0.1": {
            "BootNotification": BOOT,
            "Heartbeat": {"currentTime": CURRENT_TIME},
            "StatusNotification": {},
            "Authorize": {"idTokenInfo": ACCEPTED_TOKEN},
            # An event without an idToken (Updated) is answered with nothing to say.
            "TransactionEvent": {},
            "TransactionEvent+idToken": {"idTokenInfo": ACCEPTED_TOKEN},
            "MeterValues": {},
            "DataTransfer": {"status": "Accepted"},
            "FirmwareStatusNotification": {},
            "LogStatusNotification": {},
            "SecurityEventNotification": {},
            "NotifyEvent": {},
            "NotifyReport": {},
        },
    }.items()
}
# Same accept queue as the product (cms.serve.LISTEN_BACKLOG), for the reconnect storm.
LISTEN_BACKLOG = 16384


async def respond(ws) -> None:
    """Answer every CALL with the constant result of its action in the negotiated version."""
    results = RESULTS[ws.subprotocol]
    async for text in ws:
        message = json.loads(text)
        if message[0] == 2:
            action = message[2]
            if action == "TransactionEvent" and "idToken" in message[3]:
                action = "TransactionEvent+idToken"
            await ws.send(f"[3,{json.dumps(message[1])},{results.get(action, '{}')}]")


async def serve_forever(host: str, port: int) -> None:
    async with serve(
        respond,
        host,
        port,
        subprotocols=SUBPROTOCOLS,
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
