#!/usr/bin/python3
"""Drives the race_ws_echo endpoint with an independent WebSocket client
(Debian's python3-websockets) and prints TAP.

usage: ws_interop.py URL [CA_FILE]
"""

import asyncio
import ssl
import sys

import websockets

results = []


def check(cond, name, extra=""):
    results.append((bool(cond), name, extra))


async def main(url, ca):
    ctx = None
    if url.startswith("wss:"):
        ctx = ssl.create_default_context(cafile=ca)

    async with websockets.connect(url, ssl=ctx, max_size=None,
                                  compression=None) as ws:
        await ws.send("hello, peloton")
        check(await ws.recv() == "hello, peloton", "text echo")

        blob = bytes(range(256)) * 300
        await ws.send(blob)
        check(await ws.recv() == blob, "binary echo of 76800 bytes")

        text = "Giro d'Italia \u00e9tape \u2014 \U0001F6B4" * 100
        await ws.send(text)
        check(await ws.recv() == text, "multi-byte text echo")

        # an iterable is sent as one fragmented message
        await ws.send(["frag-", "men-", "ted \u00e9", ""])
        check(await ws.recv() == "frag-men-ted \u00e9", "fragmented echo")

        waiter = await ws.ping(b"are you there")
        await asyncio.wait_for(waiter, 5)
        check(True, "ping answered with pong")

        for i in range(100):
            await ws.send("msg %d" % i)
        got = [await ws.recv() for _ in range(100)]
        check(got == ["msg %d" % i for i in range(100)],
              "100 pipelined messages echoed in order")

        await ws.close(1000, "finish line")
        check(ws.close_code == 1000, "close handshake 1000",
              "got %r" % ws.close_code)

    # a message over race_ws_max_message: the server closes with 1009
    async with websockets.connect(url, ssl=ctx, max_size=None,
                                  compression=None) as ws:
        await ws.send("x" * 150000)
        try:
            await asyncio.wait_for(ws.recv(), 5)
            check(False, "oversized message closed with 1009", "echoed")
        except websockets.exceptions.ConnectionClosed as e:
            check(e.rcvd is not None and e.rcvd.code == 1009,
                  "oversized message closed with 1009", repr(e.rcvd))

    # bad UTF-8 cannot be produced by this library's text API; send it raw
    # as a text frame through its lower layer is not public API, so that
    # case is covered by the raw-socket tests instead.


asyncio.run(asyncio.wait_for(main(sys.argv[1],
                                  sys.argv[2] if len(sys.argv) > 2 else None),
                             60))

print("1..%d" % len(results))
for i, (ok, name, extra) in enumerate(results, 1):
    print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name,
                            (" # " + extra) if extra and not ok else ""))
sys.exit(0 if all(r[0] for r in results) else 1)
