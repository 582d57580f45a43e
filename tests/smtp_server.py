"""A real SMTP server on localhost for the tests (aiosmtpd).

aiosmtpd needs the ``atpublic`` distribution, whose module is named ``public``,
like our own ``public`` package (the catalog), which the project root puts
first on the path. aiosmtpd is imported once with atpublic's module in place,
and ours put back: aiosmtpd keeps the decorator it took."""

from __future__ import annotations

import importlib.util
import socket
import sys
from email import message_from_bytes
from email.policy import default as default_policy
from importlib.metadata import distribution


def _import_controller():
    ours = sys.modules.pop("public", None)
    ours_children = {k: sys.modules.pop(k) for k in list(sys.modules) if k.startswith("public.")}
    try:
        path = distribution("atpublic").locate_file("public/__init__.py")
        spec = importlib.util.spec_from_file_location(
            "public", path, submodule_search_locations=[str(path.parent)]
        )
        atpublic = importlib.util.module_from_spec(spec)
        sys.modules["public"] = atpublic
        spec.loader.exec_module(atpublic)
        from aiosmtpd.controller import Controller
    finally:
        for name in [k for k in sys.modules if k == "public" or k.startswith("public.")]:
            del sys.modules[name]
        if ours is not None:
            sys.modules["public"] = ours
            sys.modules.update(ours_children)
    return Controller


Controller = _import_controller()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every mail it accepts, parsed."""

    def __init__(self) -> None:
        self.mails: list = []

    async def handle_DATA(self, server, session, envelope):
        mail = message_from_bytes(envelope.original_content, policy=default_policy)
        self.mails.append((list(envelope.rcpt_tos), mail))
        return "250 OK"

    def to(self, address: str) -> list:
        return [mail for recipients, mail in self.mails if address in recipients]


class SmtpServer:
    """An SMTP server on a free port of 127.0.0.1, stoppable and restartable."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
