"""Keep-alive connections spread over the server's workers (churn.balance), and a large batch
does not hold up the other connections of its worker (churn.app yields between chunks)."""

from __future__ import annotations

import asyncio
import copy
import os
import socket
import time

import pytest
from model_testkit import csv_rows

from benchmarks.serving import established_per_worker

ROW = "12,0,0,350.5,3.2,40.1,480.2,2,0,1"


def _open_and_use(port: int, count: int, pause: float = 0.0) -> list[socket.socket]:
    """`count` keep-alive connections, each answered once (so a worker has accepted it)."""
    request = (f"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: {len(ROW)}\r\n\r\n{ROW}").encode()
    sockets = []
    for _ in range(count):
        sockets.append(socket.create_connection(("127.0.0.1", port), timeout=30))
        time.sleep(pause)
    for sock in sockets:
        sock.sendall(request)
    for sock in sockets:
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    return sockets


def _settled(server) -> dict[int, int]:
    """Per-worker connections once earlier tests' closed connections are off the table."""
    deadline = time.monotonic() + 10
    counts = established_per_worker(server.process.pid, server.port)
    while any(counts.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
        counts = established_per_worker(server.process.pid, server.port)
    time.sleep(0.3)  # workers publish their count at least every 0.1 s
    return counts


@pytest.mark.parametrize(("count", "pause"), [(16, 0.0), (8, 0.02)], ids=["16-at-once", "8-staggered-20ms"])
def test_keep_alive_connections_are_spread_evenly_over_the_workers(server, count, pause):
    assert set(_settled(server).values()) == {0}
    sockets = _open_and_use(server.port, count, pause)
    try:
        held = established_per_worker(server.process.pid, server.port)
        assert len(held) == 2 and sum(held.values()) == count
        assert max(held.values()) - min(held.values()) <= 1, held
    finally:
        for sock in sockets:
            sock.close()


def test_a_worker_holding_more_connections_than_a_live_one_waits():
    from churn.balance import ConnectionTable

    me = ConnectionTable(slots=3)
    other = copy.copy(me)  # the same shared cells, seen from another worker
    assert me.claim(os.getpid()) == 0
    assert other.claim(os.getppid()) == 1  # a live process other than this one
    other.publish(3)
    assert me.may_accept(3) and me.may_accept(2)  # ties and the emptier worker accept
    assert not me.may_accept(4)
    me.publish(4)
    assert sorted(me.counts()) == [3, 4]
    other._cells[1 * 3 + 2] -= 5  # its heartbeat is 5 s old: stopped or gone, so not waited for
    assert me.may_accept(4) and me.counts() == [4]


def test_a_slot_of_a_process_that_is_gone_is_reused():
    from churn.balance import ConnectionTable

    table = ConnectionTable(slots=1)
    gone = os.fork()
    if gone == 0:
        os._exit(0)
    os.waitpid(gone, 0)
    assert table.claim(gone) == 0
    assert copy.copy(table).claim(os.getpid()) == 0  # its owner exited: the slot is free again
    assert copy.copy(table).claim(os.getppid()) is None  # now held by a live process


def test_a_large_batch_lets_a_small_request_on_the_same_worker_through(pipeline):
    from churn.app import InferenceApp

    app = InferenceApp(pipeline.model_dir, request_timeout=60)
    app._load()
    big = csv_rows(pipeline.test_features) * 40  # many chunks of parsing and prediction
    answered: list[str] = []

    async def invoke(body: str, label: str) -> None:
        messages = [{"type": "http.request", "body": body.encode(), "more_body": False}]

        async def receive():
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                assert message["status"] == 200
                answered.append(label)

        scope = {"type": "http", "path": "/invocations", "method": "POST", "headers": [(b"content-type", b"text/csv")]}
        await app(scope, receive, send)

    async def scenario() -> None:
        batch = asyncio.create_task(invoke(big, "batch"))
        await asyncio.sleep(0)  # the batch has started: its first chunk is parsed
        await asyncio.gather(batch, invoke(ROW, "row"))

    asyncio.run(scenario())
    assert answered == ["row", "batch"]


def test_the_accept_loop_survives_an_error_and_keeps_accepting():
    from churn.balance import ConnectionTable, accept_forever

    made: list[str] = []

    class Greeter(asyncio.Protocol):
        def connection_made(self, transport):
            made.append("served")
            transport.write(b"hi")
            transport.close()

    def factory():
        if not made:
            made.append("failed")
            raise RuntimeError("a bug while setting up the first connection")
        return Greeter()

    async def scenario() -> bytes:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setblocking(False)
        acceptor = asyncio.create_task(accept_forever(listener, ConnectionTable(slots=1), lambda: 0, factory))
        port = listener.getsockname()[1]
        try:
            first = await asyncio.open_connection("127.0.0.1", port)
            second_reader, _ = await asyncio.open_connection("127.0.0.1", port)
            answer = await asyncio.wait_for(second_reader.read(), timeout=30)
            first[1].close()
            return answer
        finally:
            acceptor.cancel()
            listener.close()

    assert asyncio.run(scenario()) == b"hi"
    assert made == ["failed", "served"]
