"""Keep-alive connections spread evenly over the server's worker processes.

A keep-alive connection stays with the worker that accepted it, and workers sharing one listening
socket accept very unevenly: whichever wakes first drains the whole accept queue, so a burst of
16 connections often lands 16/0 and a container runs on one core of two while reporting healthy.
SO_REUSEPORT (gunicorn's `reuse_port`, which in gunicorn 26 gives each worker its own socket)
does not fix this for the few long-lived connections a load balancer opens: the kernel picks a
worker by a hash of the client's address and port, so N connections fall binomially — with 16
connections over 2 workers, 13 or more land on one worker in about 2% of bursts.

What does spread them is the rule nginx applies with `accept_mutex`/`accept_disabled`: a worker
that already holds more connections than another live worker leaves new ones in the shared
queue for that one. Each worker publishes its open-connection count and a heartbeat in a small
table of shared memory (created by the gunicorn master before it forks, inherited by every
worker); the worker with the fewest accepts, ties accept alike. If the emptier worker does not
take a waiting connection within TAKEOVER_SECONDS (busy, or stopped), any worker takes it, so
balancing never costs a client more than that once per connection. A worker whose heartbeat is
older than STALE_SECONDS (dead, or being replaced) is left out of the comparison.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import select
import socket
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("churn.serve")

STALE_SECONDS = 1.0
TAKEOVER_SECONDS = 0.05
POLL_SECONDS = 0.002
_FIELDS = 3  # pid, open connections, heartbeat (CLOCK_MONOTONIC is the same for every process)


class ConnectionTable:
    """Per-worker open-connection counts in shared memory. Each worker writes only its own slot
    (aligned 8-byte stores); readers tolerate a value that is a moment old."""

    def __init__(self, slots: int) -> None:
        self._cells = multiprocessing.RawArray(ctypes.c_double, slots * _FIELDS)
        self._claim_lock = multiprocessing.Lock()
        self.slots = slots
        self.slot: int | None = None

    def claim(self, pid: int) -> int | None:
        """Take a free slot for this worker process (after the fork); None when all are in use."""
        cells = self._cells
        # A bounded wait: were a worker to die holding the lock, the next would claim without it
        # (a race at worst costs balancing, never serving).
        locked = self._claim_lock.acquire(timeout=1.0)
        try:
            for slot in range(self.slots):
                owner = int(cells[slot * _FIELDS])
                if owner == 0 or owner == pid or not _alive(owner):
                    cells[slot * _FIELDS : (slot + 1) * _FIELDS] = [pid, 0, time.monotonic()]
                    self.slot = slot
                    return slot
            return None
        finally:
            if locked:
                self._claim_lock.release()

    def publish(self, connections: int) -> None:
        if self.slot is not None:
            base = self.slot * _FIELDS
            self._cells[base + 1] = connections
            self._cells[base + 2] = time.monotonic()

    def counts(self) -> list[int]:
        """Open connections of every live worker, this one included (for benchmarks and tests)."""
        now, cells = time.monotonic(), self._cells
        return [
            int(cells[s * _FIELDS + 1]) for s in range(self.slots) if cells[s * _FIELDS] and now - cells[s * _FIELDS + 2] < STALE_SECONDS
        ]

    def may_accept(self, connections: int) -> bool:
        """True unless another live worker holds fewer connections than this one."""
        if self.slot is None:
            return True
        now, cells = time.monotonic(), self._cells
        for slot in range(self.slots):
            base = slot * _FIELDS
            if slot != self.slot and cells[base] and cells[base + 1] < connections and now - cells[base + 2] < STALE_SECONDS:
                return False
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pending(fd: int) -> bool:
    poller = select.poll()  # not select.select: it cannot take descriptors above 1023
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


async def _readable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready = loop.create_future()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def accept_forever(
    listener: socket.socket,
    table: ConnectionTable,
    open_connections: Callable[[], int],
    protocol_factory: Callable[[], asyncio.Protocol],
    takeover_seconds: float = TAKEOVER_SECONDS,
) -> None:
    """Accept from the shared `listener` when the table says it is this worker's turn (or a
    connection has waited `takeover_seconds` for another worker), and hand each connection to
    the event loop with `protocol_factory`. Runs until cancelled; no error stops it, since a
    worker that stopped accepting would look healthy while serving nobody new."""
    loop = asyncio.get_running_loop()
    fd = listener.fileno()
    while True:
        try:
            await _accept_one(loop, listener, fd, table, open_connections, protocol_factory, takeover_seconds)
        except Exception:
            log.exception("accepting a connection failed; still accepting")
            await asyncio.sleep(0.1)


async def _accept_one(
    loop: asyncio.AbstractEventLoop,
    listener: socket.socket,
    fd: int,
    table: ConnectionTable,
    open_connections: Callable[[], int],
    protocol_factory: Callable[[], asyncio.Protocol],
    takeover_seconds: float,
) -> None:
    await _readable(loop, fd)
    waited = 0.0
    while not table.may_accept(open_connections()) and waited < takeover_seconds:
        await asyncio.sleep(POLL_SECONDS)
        waited += POLL_SECONDS
        if not _pending(fd):
            return  # another worker took it
    try:
        connection, _ = listener.accept()
    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
        return  # another worker was faster, or the client gave up
    except OSError as error:  # out of file descriptors or memory: back off, keep serving
        log.warning("accept failed: %s", error)
        await asyncio.sleep(0.1)
        return
    table.publish(open_connections() + 1)
    try:
        connection.setblocking(False)
        if connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await loop.connect_accepted_socket(protocol_factory, connection)
    except OSError as error:  # the client reset it already
        log.debug("connection dropped before it was set up: %s", error)
        connection.close()
    table.publish(open_connections())


def raw_socket(listener: Any) -> socket.socket:
    """gunicorn wraps its listening sockets; the event loop needs the socket itself."""
    return getattr(listener, "sock", listener)
