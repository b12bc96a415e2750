"""The server's settings, as parsed from the command line (docs/PROTOCOL.md §8)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

VERSION = "0.1.0"
PROTOCOL = 1


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    auth_port: int = 9999
    chat_port: int = 9998
    file_port: int = 9988
    data_dir: str = "chatroom-data"
    db: Optional[str] = None  # default: sqlite:///DATA_DIR/chatroom.db
    storage: Optional[str] = None  # default: DATA_DIR/files
    sms: str = "console"
    sms_url: str = "https://api.netease.im"
    sms_app_key: str = ""
    sms_app_secret: str = ""
    sms_template: Optional[str] = None
    max_file_size: int = 1024 ** 3
    flood_limit: float = 20.0
    idle_timeout_s: float = 300.0
    tls_cert: Optional[str] = None  # both given: every service speaks TLS
    tls_key: Optional[str] = None
    log_level: str = "INFO"
    trace: bool = False
    # docs/PROTOCOL.md §10: what one user or one address may take; 0 = no limit.
    quota: int = 10 * 1024 ** 3
    max_conns_per_ip: int = 256
    max_conns_per_user: int = 16
    logins_per_ip: int = 60
    codes_per_ip: int = 10
    sms_hourly: int = 100
    # docs/PROTOCOL.md §11: usernames made admins at start (or when they register), and who
    # may share files: "all" or "admins" (hand-ins are always allowed).
    admins: List[str] = field(default_factory=list)
    uploads: str = "all"
    # docs/PROTOCOL.md §14: the name discovery answers give ("" = the host name), and
    # whether the server answers discovery probes at all.
    name: str = ""
    discovery: bool = True
    # docs/PROTOCOL.md §13: serving processes on this host, sharing the three ports.
    workers: int = 1
    # The real ports after binding (port 0 picks a free one); filled in by server_main.
    ports: Dict[str, int] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return self.db or "sqlite:///" + os.path.join(self.data_dir, "chatroom.db")

    @property
    def storage_dir(self) -> str:
        return self.storage or os.path.join(self.data_dir, "files")
