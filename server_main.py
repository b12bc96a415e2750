"""Server composition root: parse options -> open the store -> build services -> loop.run().

    python server_main.py                       # 127.0.0.1, ports 9999/9998/9988, SQLite
    python server_main.py --host 0.0.0.0        # serve a classroom LAN
    python server_main.py --db mysql://chat:secret@127.0.0.1:3306/chatroom --sms netease ...
"""
from __future__ import annotations

import logging
import os
import platform
import ssl
import sys
import time
from typing import Callable, List, Optional

from db import StoreError, open_store
from db.writer import MessageWriter
from net.chaos import Chaos
from net.datagrams import DiscoveryServer
from net.discovery import Responder, display_name
from net.loop import Loop
from net.rules import username_key
from net.tls import cert_fingerprint_file, server_context
from net.workers import Workers
from options import (
    SERVER_CONFIG_FILE,
    build_parser,
    chaos_from_args,
    config_from_args,
    parse_with_config,
)
from server.accounts import Accounts
from server.auth import AuthService
from server.chat import ChatService
from server.config import VERSION, ServerConfig
from server.files import FileService
from server.library import PARTIAL_MAX_AGE_S
from server.sessions import Sessions
from server.sms import make_provider
from server.storage import FileStorage

log = logging.getLogger("chatroom.server")

def setup_logging(level: str, log_file: Optional[str] = None) -> None:
    handlers: List[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=getattr(logging, level), handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def raise_open_files_limit() -> None:
    """Each client costs a file descriptor; the usual soft limit (1024) is far below what
    the hard limit allows. Windows has no such limit."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 65536
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def start_discovery(config: ServerConfig, loop: Loop,
                    users_online: Callable[[], int]) -> Optional[DiscoveryServer]:
    """Answer LAN discovery probes (docs/PROTOCOL.md §14) on the auth port number, in the
    same loop. Discovery is a convenience: when its port cannot be bound the server still
    serves, and says so."""
    if not config.discovery:
        log.info("discovery: off (--no-discovery)")
        return None
    name = config.name or display_name(platform.node()) or "chatroom"
    fingerprint = None
    if config.tls_cert:
        fingerprint = cert_fingerprint_file(config.tls_cert).replace(":", "").lower()
    responder = Responder(name, config.ports, fingerprint, users_online)
    server = DiscoveryServer(responder, loop.add_reader, trace=config.trace)
    try:
        where = server.open(config.host, config.ports["auth"])
    except OSError as exc:
        log.warning("discovery: off, cannot bind UDP %s:%d: %s", config.host,
                    config.ports["auth"], exc)
        server.close()
        return None
    log.info("discovery: answering as %r on UDP %s", name, ", ".join(where))
    return server


def serve(config: ServerConfig, ready: Optional[callable] = None,
          chaos: Optional[Chaos] = None) -> int:
    """Run the server until SIGINT/SIGTERM. Returns the process exit code."""
    raise_open_files_limit()
    # docs/PROTOCOL.md §10: the database and the stored files are the server user's alone
    # (other accounts on a lab machine must not read private messages).
    os.umask(0o077)
    try:
        sms = make_provider(config.sms, config.sms_url, config.sms_app_key,
                            config.sms_app_secret, config.sms_template)
    except (RuntimeError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    try:
        os.makedirs(config.data_dir, mode=0o700, exist_ok=True)
        store = open_store(config.db_url)
        store.make_private()
        storage = FileStorage(config.storage_dir)
        storage.make_private()
        storage.recover(store, time.time(), PARTIAL_MAX_AGE_S, at_startup=True)
    except (StoreError, OSError) as exc:
        log.error("cannot start: %s", exc)
        return 2

    tls = None
    if config.tls_cert or config.tls_key:
        if not (config.tls_cert and config.tls_key):
            log.error("TLS needs both --tls-cert and --tls-key")
            return 2
        try:
            tls = server_context(config.tls_cert, config.tls_key)
        except (OSError, ssl.SSLError) as exc:
            log.error("cannot load the TLS certificate or key: %s", exc)
            return 2
    loop = Loop(trace=config.trace, tls=tls, max_conns_per_ip=config.max_conns_per_ip,
                chaos=chaos)
    if chaos is not None:
        log.warning("chaos mode, seed %d: every write is cut into random pieces, some held "
                    "back, every read capped (docs/LABS.md, lab 2)", chaos.seed)
    workers = loop.workers = Workers(loop)
    accounts = Accounts(store, admins=frozenset(username_key(n) for n in config.admins))
    granted = accounts.grant_admins()
    if granted:
        log.info("admins: %s", ", ".join(granted))
    sessions = Sessions(config.max_conns_per_user)
    writer = MessageWriter(store, workers.post)
    chat = ChatService(config, accounts, sessions, writer, sms.name)
    files = FileService(config, accounts, sessions, storage, chat, sms.name)
    auth = AuthService(config, accounts, sms, sessions)
    try:
        for name, service, port in (("auth", auth, config.auth_port),
                                    ("chat", chat, config.chat_port),
                                    ("file", files, config.file_port)):
            host, real_port = loop.listen(config.host, port, service)
            config.ports[name] = real_port
    except OSError as exc:
        log.error("cannot listen on %s: %s", config.host, exc)
        return 2
    auth.start()
    chat.start()
    files.start_expiry()
    discovery = start_discovery(config, loop, lambda: len(chat.online()))
    loop.handle_signals()
    log.info("chatroom %s listening auth=%s:%d chat=%s:%d file=%s:%d (database %s, sms %s%s)",
             VERSION, config.host, config.ports["auth"], config.host, config.ports["chat"],
             config.host, config.ports["file"], store.describe(), sms.name,
             ", TLS certificate %s" % cert_fingerprint_file(config.tls_cert) if tls else "")
    if ready is not None:
        ready(loop, config)
    loop.run()
    if discovery is not None:
        discovery.close()
    store.close()
    log.info("stopped")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parse_with_config(parser, argv, SERVER_CONFIG_FILE)
    chaos = chaos_from_args(parser, args, args.host)
    setup_logging(args.log_level, args.log_file)
    return serve(config_from_args(args), chaos=chaos)


if __name__ == "__main__":
    sys.exit(main())
