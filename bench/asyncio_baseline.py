"""A minimal asyncio server that speaks our framing, to measure our loop against.

    python bench/asyncio_baseline.py PORT ping    answers every J frame with an ok reply
    python bench/asyncio_baseline.py PORT chat    naive chat: {"op":"say"} is encoded again
                                                  and written with one write() per recipient

It does no storage and no validation: it is the "how fast can plain asyncio go" line.
"""
from __future__ import annotations

import asyncio
import json
import signal
import struct
import sys

HEADER = struct.Struct(">BI")


def frame(obj: dict) -> bytes:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return HEADER.pack(0x4A, len(body)) + body


async def serve(port: int, mode: str) -> None:
    writers = set()
    seq = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(5)
                _, length = HEADER.unpack(header)
                request = json.loads(await reader.readexactly(length))
                reply = {"op": request["op"], "id": request.get("id"), "status": "ok"}
                if mode == "chat" and request["op"] == "say":
                    seq[0] += 1
                    reply["msg_id"] = seq[0]
                    writer.write(frame(reply))
                    event = {"op": "message", "msg_id": seq[0], "from": "x", "to": None,
                             "text": request["text"], "ts": 0}
                    for w in list(writers):
                        w.write(frame(event))
                else:
                    writer.write(frame(reply))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writers.discard(writer)
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "ping"))
