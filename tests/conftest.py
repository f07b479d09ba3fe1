"""Suite-wide guards: nothing a test does may reach AWS or any other host.

Fake credentials and a fixed region make boto3 and the sagemaker SDK build clients without
looking anything up; the socket guard turns any non-loopback connection into an immediate error
instead of a hang or, worse, a real call.

And what the session shares to run fast on parallel workers (docs/testing.md, "Running the suite
fast"): the program server, the records directory, one botocore loader per process, the order and
the units files are handed out in.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import shutil
import socket
import tempfile
from pathlib import Path

import boto3.session
import botocore.loaders
import botocore.session
import pytest
from program_testkit import shipped_previews as _shipped_previews
from suite_order import LONGEST_FIRST, file_scheduling

from tools.offline.program_server import SHARED_SERVER_VARIABLE, SharedProgramServer, serves_this_checkout
from tools.offline.records import CACHE_DIR_VARIABLE

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAGEMAKER_VALIDATE_ROLE": "false",
}
# Set at import time so that subprocesses started by tests inherit them too.
os.environ.update(FAKE_AWS_ENV)
for _var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_var, None)

# Every botocore session gets a loader of its own, which reads and parses each service model it
# needs from botocore's JSON files again (SageMaker's alone is megabytes): the tests make hundreds of
# sessions (a client per test, moto's own), which spent more CPU on that than on what they test.
# Sessions of this process that name the same data path (AWS_DATA_PATH) now share one loader, whose
# caches hold the parsed models; subprocesses, and so every tool a test runs, are unchanged.
botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)
_boto3_setup_loader = boto3.session.Session._setup_loader


def _setup_loader_once(self: boto3.session.Session) -> None:
    """boto3 appends its own data folder to the loader's search paths for every Session: once is
    enough for a shared loader (a lookup that misses stats every path)."""
    loader = self._session.get_component("data_loader")
    if os.path.join(os.path.dirname(boto3.session.__file__), "data") in loader.search_paths:
        self._loader = loader
    else:
        _boto3_setup_loader(self)


boto3.session.Session._setup_loader = _setup_loader_once  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    """What the workers share, made by the controller before pytest-xdist starts its workers, which
    inherit the variables: one directory per session for the program's records, and one program
    server (tools/offline/program_server.py) that every preview a test starts forks its program
    runs from, so that a hundred previews import pulumi-aws once instead of a hundred times."""
    if hasattr(config, "workerinput"):
        return
    if CACHE_DIR_VARIABLE not in os.environ:
        folder = tempfile.mkdtemp(prefix="offline-records-")
        os.environ[CACHE_DIR_VARIABLE] = folder
        config.add_cleanup(lambda: (shutil.rmtree(folder, ignore_errors=True), os.environ.pop(CACHE_DIR_VARIABLE, None)))
    # A session started by a test in a copy of the repository uses the server it inherits when that
    # serves the copy (the same interpreter and tools/), else gets its own.
    if not serves_this_checkout(os.environ.get(SHARED_SERVER_VARIABLE, "")) and hasattr(os, "fork"):
        inherited = os.environ.get(SHARED_SERVER_VARIABLE)
        folder = tempfile.mkdtemp(prefix="program-server-")
        server = SharedProgramServer(Path(folder) / "socket")
        os.environ[SHARED_SERVER_VARIABLE] = str(server.path)

        def stop() -> None:
            server.close()
            shutil.rmtree(folder, ignore_errors=True)
            if inherited is None:
                os.environ.pop(SHARED_SERVER_VARIABLE, None)
            else:
                os.environ[SHARED_SERVER_VARIABLE] = inherited

        config.add_cleanup(stop)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: the rest keep their order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadfile` hands out files, except that the policy unit modules and their coverage
    check go together (suite_order.scope_of)."""
    return file_scheduling(config, log) if config.getvalue("dist") == "loadfile" else None


class NetworkBlocked(RuntimeError):
    pass


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS: refuse it


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkBlocked(f"test tried to connect to {address!r}; only loopback is allowed")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
        raise NetworkBlocked(f"test tried to connect to {address!r}; only loopback is allowed")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host is not None and not _is_loopback((host.decode() if isinstance(host, bytes) else host,)):
        raise NetworkBlocked(f"test tried to resolve {host!r}; only loopback is allowed")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def block_network():
    """Block every connection and name lookup that is not loopback, for the whole session."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _guarded_getaddrinfo
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex
    socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture(scope="session")
def shipped_previews():
    """The shipped dev and prod stacks, previewed once per session for every worker: (completed process, {stack: JSON})."""
    return _shipped_previews()
