"""Server composition root: parse options -> open the store -> build services -> loop.run().

    python server_main.py                       # 127.0.0.1, ports 9999/9998/9988, SQLite
    python server_main.py --host 0.0.0.0        # serve a classroom LAN
    python server_main.py --db mysql://chat:secret@127.0.0.1:3306/chatroom --sms netease ...
"""
from __future__ import annotations

import logging
import os
import ssl
import sys
import time
from typing import List, Optional

from db import StoreError, open_store
from db.writer import MessageWriter
from net.loop import Loop
from net.rules import username_key
from net.tls import cert_fingerprint_file, server_context
from net.workers import Workers
from options import SERVER_CONFIG_FILE, build_parser, config_from_args, parse_with_config
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


def serve(config: ServerConfig, ready: Optional[callable] = None) -> int:
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
    loop = Loop(trace=config.trace, tls=tls, max_conns_per_ip=config.max_conns_per_ip)
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
    loop.handle_signals()
    log.info("chatroom %s listening auth=%s:%d chat=%s:%d file=%s:%d (database %s, sms %s%s)",
             VERSION, config.host, config.ports["auth"], config.host, config.ports["chat"],
             config.host, config.ports["file"], store.describe(), sms.name,
             ", TLS certificate %s" % cert_fingerprint_file(config.tls_cert) if tls else "")
    if ready is not None:
        ready(loop, config)
    loop.run()
    store.close()
    log.info("stopped")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_with_config(build_parser(), argv, SERVER_CONFIG_FILE)
    setup_logging(args.log_level, args.log_file)
    return serve(config_from_args(args))


if __name__ == "__main__":
    sys.exit(main())
