"""S7 driver: remote commands open-loop through the command service, or the channel layer alone.

Started by the harness with the csms environment. It prints "ready" once Django is set up,
waits for a line on stdin, sends commands for the duration and writes its figures as JSON.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
from array import array
from collections import Counter
from time import perf_counter

import django
import uvloop

# TriggerMessage and ChangeAvailability: both answered at once by the simulated stations.
COMMANDS = (
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
    ("ChangeAvailability", {"connectorId": 0, "type": "Operative"}),
)


def _subscriptions(layer) -> int | None:
    """Channels the layer still listens on in this process (reply channels left behind)."""
    inner = getattr(layer, "_get_layer", None)
    channels = getattr(inner(), "channels", None) if inner else getattr(layer, "channels", None)
    return len(channels) if channels is not None else None


async def drive(args, station_ids: list[int]) -> dict:
    from channels.layers import get_channel_layer

    from ocpp_gateway.commands import request_call

    layer = get_channel_layer()
    rng = random.Random(7)
    samples = array("d")
    failures = Counter()
    examples = []

    async def gateway_command():
        action, payload = rng.choice(COMMANDS)
        began = perf_counter()
        outcome = await request_call(rng.choice(station_ids), action, payload, timeout=10)
        if outcome.status == "accepted":
            samples.append(perf_counter() - began)
        else:
            failures[outcome.status] += 1
            if len(examples) < 5:
                examples.append(f"{action}: {outcome.status} {outcome.error_description}")

    # As request_call does: one reply channel for the process, answers matched by id.
    reply_to = await layer.new_channel("bench.reply.") if args.mode == "layer" else ""
    waiting: dict[int, asyncio.Future] = {}

    async def deliver():
        while True:
            message = await layer.receive(reply_to)
            future = waiting.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)

    pump = asyncio.ensure_future(deliver()) if reply_to else None
    ids = iter(range(1, 10**9))

    async def layer_round_trip():
        began = perf_counter()
        request_id = next(ids)
        waiting[request_id] = asyncio.get_running_loop().create_future()
        await layer.send(
            args.channel, {"type": "bench.ping", "reply_to": reply_to, "id": request_id}
        )
        try:
            await asyncio.wait_for(waiting[request_id], 5)
        except TimeoutError:
            waiting.pop(request_id, None)
            failures["timeout"] += 1
            return
        samples.append(perf_counter() - began)

    one = gateway_command if args.mode == "gateway" else layer_round_trip
    # Connections to Redis are opened by the first calls: not part of what is measured.
    for _ in range(3):
        await one()
    del samples[:]
    failures.clear()
    examples.clear()
    tasks = set()
    cpu = time.process_time()
    began = time.monotonic()
    when, end = began, began + args.duration
    lag = 0.0
    sent = 0
    while True:
        when += rng.expovariate(args.rate)
        if when >= end:
            break
        delay = when - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, time.monotonic() - when)
        task = asyncio.create_task(one())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
    await asyncio.gather(*tasks)
    if pump is not None:
        pump.cancel()
    return {
        "mode": args.mode,
        "sent": sent,
        "samples": list(samples),
        "failures": dict(failures),
        "examples": examples,
        "duration": args.duration,
        "max_schedule_lag_ms": round(lag * 1000, 3),
        "cpu_seconds": time.process_time() - cpu,
        "subscriptions_left": _subscriptions(layer),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("gateway", "layer"), required=True)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--stations", type=int, default=0)
    parser.add_argument("--channel", default="", help="the responder's channel (layer mode)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
    django.setup()
    from bench.provision import station_ids

    ids = station_ids(args.stations) if args.mode == "gateway" else []
    print("ready", flush=True)
    sys.stdin.readline()
    result = uvloop.run(drive(args, ids))
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
