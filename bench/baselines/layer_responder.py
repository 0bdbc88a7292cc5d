"""Baseline of S7: a process that answers every message on its channel through the same layer."""

import asyncio
import os

import django
import uvloop


async def respond() -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel("bench.responder.")
    print(channel, flush=True)
    tasks = set()
    while True:
        message = await layer.receive(channel)
        pong = {"type": "bench.pong", "id": message.get("id")}
        task = asyncio.create_task(layer.send(message["reply_to"], pong))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def main() -> None:
    """Print the channel name, then answer until killed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
    django.setup()
    uvloop.run(respond())


if __name__ == "__main__":
    main()
