"""What every service shares: the handler table, hello, ping, and the limits it announces."""
from __future__ import annotations

from typing import Any, Callable, Dict

from net.framing import MAX_CHUNK_BYTES, MAX_CLIENT_JSON_BYTES
from net.loop import Peer, Service
from net.rules import TEXT_MAX_CHARS
from server.config import PROTOCOL, VERSION, ServerConfig

Handler = Callable[[Peer, Dict[str, Any]], None]


class BaseService(Service):
    """A service whose ops are methods named ``op_<name>``; unknown ops get unknown_op."""

    max_json_bytes = MAX_CLIENT_JSON_BYTES

    def __init__(self, config: ServerConfig, sms_name: str) -> None:
        self.config = config
        self.sms_name = sms_name
        self._handlers: Dict[str, Handler] = {
            name[3:]: getattr(self, name) for name in dir(self) if name.startswith("op_")}

    def on_request(self, peer: Peer, request: Dict[str, Any]) -> None:
        handler = self._handlers.get(request["op"])
        if handler is None:
            peer.reply(request, "unknown_op", "the %s service has no operation %r"
                       % (self.name, request["op"]))
            return
        handler(peer, request)

    def op_hello(self, peer: Peer, request: Dict[str, Any]) -> None:
        peer.reply(request, protocol=PROTOCOL, service=self.name, server="chatroom " + VERSION,
                   services=dict(self.config.ports), sms=self.sms_name,
                   limits={"max_json": MAX_CLIENT_JSON_BYTES, "max_chunk": MAX_CHUNK_BYTES,
                           "max_file_size": self.config.max_file_size,
                           "max_text": TEXT_MAX_CHARS})

    def op_ping(self, peer: Peer, request: Dict[str, Any]) -> None:
        peer.reply(request)

    def idle_limit_s(self, peer: Peer) -> float:
        return self.config.idle_timeout_s
