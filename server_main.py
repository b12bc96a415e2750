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
from typing import Any, Callable, Dict, List, Optional

from db import StoreError, open_store
from db.writer import MessageWriter
from net import prefork
from net.chaos import Chaos
from net.datagrams import DiscoveryServer
from net.discovery import Responder, display_name
from net.listeners import bind
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
    if config.workers > 1:
        return serve_workers(config, chaos)
    return serve_one(config, ready, chaos)


def serve_workers(config: ServerConfig, chaos: Optional[Chaos]) -> int:
    """--workers N (docs/PROTOCOL.md §13): bind here, serve in N forked processes."""
    if not prefork.SUPPORTED:
        log.error("--workers %d needs fork(), which this system (%s) does not have: run "
                  "--workers 1, or start several servers on different ports with the same "
                  "--db", config.workers, platform.system() or sys.platform)
        return 2
    raise_open_files_limit()
    os.umask(0o077)
    try:
        sms = make_provider(config.sms, config.sms_url, config.sms_app_key,
                            config.sms_app_secret, config.sms_template)
        os.makedirs(config.data_dir, mode=0o700, exist_ok=True)
        store = open_store(config.db_url)  # create or migrate the schema once, here
        where = store.describe()
        store.make_private()
        store.close()  # no connection may cross the fork
    except (RuntimeError, ValueError, StoreError, OSError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    sockets = {}
    try:
        for name, port in (("auth", config.auth_port), ("chat", config.chat_port),
                           ("file", config.file_port)):
            sockets[name] = bind(config.host, port)
            config.ports[name] = sockets[name].getsockname()[1]
    except OSError as exc:
        log.error("cannot listen on %s: %s", config.host, exc)
        for sock in sockets.values():
            sock.close()
        return 2

    def run_worker(index: int, ready: Callable[[], None]) -> int:
        return serve_one(config, lambda loop, cfg: ready(), chaos, sockets, index)

    def all_ready() -> None:
        log.info("chatroom %s listening auth=%s:%d chat=%s:%d file=%s:%d (database %s, sms "
                 "%s, %d workers%s)", VERSION, config.host, config.ports["auth"], config.host,
                 config.ports["chat"], config.host, config.ports["file"], where, sms.name,
                 config.workers, ", TLS certificate %s" % cert_fingerprint_file(
                     config.tls_cert) if config.tls_cert else "")
    code = prefork.Supervisor(config.workers, run_worker).run(all_ready)
    for sock in sockets.values():
        sock.close()
    log.info("stopped")
    return code


def serve_one(config: ServerConfig, ready: Optional[callable] = None,
              chaos: Optional[Chaos] = None, sockets: Optional[Dict[str, Any]] = None,
              worker: Optional[int] = None) -> int:
    """One serving process: on its own ports, or (a worker) on ``sockets`` bound by the
    parent, where it logs no "listening" line of its own."""
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
    sessions.publish = writer.publish
    chat = ChatService(config, accounts, sessions, writer, sms.name)
    files = FileService(config, accounts, sessions, storage, chat, sms.name)
    auth = AuthService(config, accounts, sms, sessions)
    auth.publish = writer.publish  # its throttles count across processes (§13)
    chat.appliers["throttle"] = auth.apply_throttle
    auth.when_current = chat.when_current
    try:
        for name, service, port in (("auth", auth, config.auth_port),
                                    ("chat", chat, config.chat_port),
                                    ("file", files, config.file_port)):
            if sockets is not None:
                loop.adopt(sockets[name], service)
                continue
            host, real_port = loop.listen(config.host, port, service)
            config.ports[name] = real_port
    except OSError as exc:
        log.error("cannot listen on %s: %s", config.host, exc)
        return 2
    auth.start()
    chat.start()
    files.start_expiry()
    # One answer per host to a discovery probe: the first worker gives it.
    discovery = start_discovery(config, loop, chat.online_count) if not worker else None
    loop.handle_signals()
    if worker is not None:
        log.info("worker %d serving (pid %d)", worker, os.getpid())
        ready(loop, config)
        loop.run()
        store.close()
        return 0
    log.info("chatroom %s listening auth=%s:%d chat=%s:%d file=%s:%d (database %s, sms %s%s)",
             VERSION, config.host, config.ports["auth"], config.host, config.ports["chat"],
             config.host, config.ports["file"], store.describe(), sms.name,
             ", TLS certificate %s" % cert_fingerprint_file(config.tls_cert) if tls else "")
    from options import connect_hint  # issue 20: say where students connect, not 0.0.0.0
    log.info("%s", connect_hint(config.host, config.ports["auth"], tls is not None))
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
