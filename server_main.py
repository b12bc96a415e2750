"""Server composition root: parse options -> open the store -> build services -> loop.run().

    python server_main.py                       # 127.0.0.1, ports 9999/9998/9988, SQLite
    python server_main.py --host 0.0.0.0        # serve a classroom LAN
    python server_main.py --db mysql://chat:secret@127.0.0.1:3306/chatroom --sms netease ...
"""
from __future__ import annotations

import argparse
import logging
import os
import ssl
import sys
import time
from typing import List, Optional

from chatroom import SERVER_CONFIG_FILE, parse_with_config
from db import StoreError, open_store
from db.writer import MessageWriter
from net.loop import Loop
from net.tls import cert_fingerprint_file, server_context
from net.workers import Workers
from server.accounts import Accounts
from server.auth import AuthService
from server.chat import ChatService
from server.config import VERSION, ServerConfig
from server.files import PARTIAL_MAX_AGE_S, FileService
from server.sms import make_provider
from server.storage import FileStorage

log = logging.getLogger("chatroom.server")

EXAMPLES = """examples:
  python server_main.py                          local test server, SQLite in ./chatroom-data
  python server_main.py --host 0.0.0.0           serve the classroom LAN
  python server_main.py --auth-port 0 --chat-port 0 --file-port 0   pick free ports
  python server_main.py --db mysql://chat:pw@db.lab:3306/chatroom --sms netease \\
      --sms-app-key KEY --sms-template 123       (secret in CHATROOM_SMS_APP_SECRET)
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="server_main.py", description="chatroom server: auth, chat and file services "
        "in one event loop.", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    d = ServerConfig()
    p.add_argument("--host", default=d.host, help="address to listen on (default %(default)s; "
                   "0.0.0.0 for a LAN)")
    p.add_argument("--auth-port", type=int, default=d.auth_port, help="default %(default)s")
    p.add_argument("--chat-port", type=int, default=d.chat_port, help="default %(default)s")
    p.add_argument("--file-port", type=int, default=d.file_port, help="default %(default)s "
                   "(0 picks a free port for any of the three)")
    p.add_argument("--data-dir", default=os.path.join(".", "chatroom-data"),
                   help="database and uploaded files (default %(default)s)")
    p.add_argument("--db", help="sqlite:///FILE or mysql://user:password@host:port/database "
                   "(default sqlite:///DATA_DIR/chatroom.db)")
    p.add_argument("--storage", help="where file contents are kept (default DATA_DIR/files)")
    p.add_argument("--sms", choices=["off", "console", "netease"], default=d.sms,
                   help="phone verification: off, console (code in the server log), netease")
    p.add_argument("--sms-url", default=d.sms_url, help="Yunxin API base URL")
    p.add_argument("--sms-app-key", default="", help="Yunxin AppKey")
    p.add_argument("--sms-app-secret", default=os.environ.get("CHATROOM_SMS_APP_SECRET", ""),
                   help="Yunxin AppSecret (or set CHATROOM_SMS_APP_SECRET)")
    p.add_argument("--sms-template", help="Yunxin template id")
    p.add_argument("--max-file-size", type=int, default=d.max_file_size,
                   help="largest upload in bytes (default %(default)s)")
    p.add_argument("--flood-limit", type=float, default=d.flood_limit,
                   help="say per second per chat connection, burst twice that; 0 = off")
    p.add_argument("--idle-timeout", type=float, default=d.idle_timeout_s,
                   help="close connections silent this many seconds (default %(default)s)")
    p.add_argument("--tls-cert", metavar="FILE", help="PEM certificate: serve every service "
                   "over TLS (make one with: python chatroom.py make-cert)")
    p.add_argument("--tls-key", metavar="FILE", help="PEM private key for --tls-cert")
    p.add_argument("--log-level", default=d.log_level,
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    p.add_argument("--trace", action="store_true",
                   help="log every frame in and out (passwords, codes, tokens masked)")
    p.add_argument("--log-file", metavar="FILE", help="append the log to FILE as well as "
                   "standard error")
    p.add_argument("--config", metavar="FILE", help="JSON file of options, e.g. "
                   '{"host": "0.0.0.0", "sms": "off"}; flags given here override it '
                   "(default: ./%s when it exists)" % SERVER_CONFIG_FILE)
    p.add_argument("--version", action="version", version="chatroom " + VERSION)
    return p





def config_from_args(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host, auth_port=args.auth_port, chat_port=args.chat_port,
        file_port=args.file_port, data_dir=args.data_dir, db=args.db, storage=args.storage,
        sms=args.sms, sms_url=args.sms_url, sms_app_key=args.sms_app_key,
        sms_app_secret=args.sms_app_secret, sms_template=args.sms_template,
        max_file_size=args.max_file_size, flood_limit=args.flood_limit,
        idle_timeout_s=args.idle_timeout, tls_cert=args.tls_cert, tls_key=args.tls_key,
        log_level=args.log_level, trace=args.trace)


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
    try:
        sms = make_provider(config.sms, config.sms_url, config.sms_app_key,
                            config.sms_app_secret, config.sms_template)
    except (RuntimeError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    try:
        os.makedirs(config.data_dir, exist_ok=True)
        store = open_store(config.db_url)
        storage = FileStorage(config.storage_dir)
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
    loop = Loop(trace=config.trace, tls=tls)
    workers = loop.workers = Workers(loop)
    accounts = Accounts(store)
    writer = MessageWriter(store, workers.post)
    chat = ChatService(config, accounts, writer, sms.name)
    files = FileService(config, accounts, storage, chat, sms.name)
    files.workers = workers
    auth = AuthService(config, accounts, sms)
    try:
        for name, service, port in (("auth", auth, config.auth_port),
                                    ("chat", chat, config.chat_port),
                                    ("file", files, config.file_port)):
            host, real_port = loop.listen(config.host, port, service)
            config.ports[name] = real_port
    except OSError as exc:
        log.error("cannot listen on %s: %s", config.host, exc)
        return 2
    files.start_expiry(loop)
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
