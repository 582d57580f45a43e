"""A real redis-server of the test's own on a free localhost port, to stop and start again
(the shared one on 6379 must never be stopped: other tests use it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
import redis

from tests.smtp_server import free_port


class RedisServer:
    """``redis-server --port <free> --save ''``: no file, so a restart starts empty."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is not installed (CI installs it)")
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Kill it (as a crash would: no goodbye to its clients) and wait for the end."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def keys(self) -> list[bytes]:
        return redis.Redis(port=self.port).keys("*")


SHARED_REDIS = "redis://127.0.0.1:6379/15"


def require_shared_redis(url: str = SHARED_REDIS) -> None:
    """Skip the test unless the shared Redis on 127.0.0.1:6379 answers at ``url``; on CI,
    which provides it, fail instead."""
    try:
        up = bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        up = False
    if not up:
        if os.environ.get("CI"):
            pytest.fail("Redis on 127.0.0.1:6379 is down (CI provides it)")
        pytest.skip("Redis on 127.0.0.1:6379 is not running")
