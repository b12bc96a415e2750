"""chatroom — a private chat room with shared files. The one launcher.

    python chatroom.py                 local server on SQLite + the GUI client (the demo)
    python chatroom.py server [...]    the server alone      (= python server_main.py)
    python chatroom.py client [...]    the GUI client alone  (= python client_main.py)
    python chatroom.py cli [...]       the terminal client
    python chatroom.py build           write dist/chatroom.pyz, one file that runs all of this
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
import time
from typing import List, Optional, Set, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # run from anywhere, or from inside the zipapp
    sys.path.insert(0, HERE)

USAGE = """usage: python chatroom.py [COMMAND] [options]

commands:
  (none)     start a local server (SQLite, console SMS) and open the GUI client on it
  server     run the server:            python chatroom.py server --host 0.0.0.0
  client     open the GUI client:       python chatroom.py client --host 192.168.1.10
  cli        the terminal client:       python chatroom.py cli --host 192.168.1.10
  build      write dist/chatroom.pyz:   python chatroom.py build
  make-cert  a self-signed certificate: python chatroom.py make-cert --host 192.168.1.10
  admin      make a user a teacher:     python chatroom.py admin grant alice
  --version  print the version and stop

`python chatroom.py COMMAND --help` shows each command's options.
The demo takes the server's options too, e.g. python chatroom.py --data-dir ~/chat --lang en
"""


def run_cli(argv: List[str]) -> int:
    from options import CLIENT_CONFIG_FILE, client_parser, parse_with_config, tls_for
    from ui.cli import main as cli_main
    from ui.i18n import detect_language
    parser = client_parser("chatroom.py cli", "The terminal chatroom client. Reads commands "
                           "from stdin; /help lists them.")
    parser.add_argument("--discover", action="store_true", help="print the servers that "
                        "answer LAN discovery, one per line, and exit (1 when none)")
    args = parse_with_config(parser, argv, CLIENT_CONFIG_FILE)
    logging.basicConfig(level=logging.WARNING)
    if args.discover:
        from options import discover_targets
        from ui.cli import discover
        try:
            targets = discover_targets(args)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        return discover(targets(), args.lang or detect_language())
    from options import chaos_from_args
    from ui.cli import trust_asker
    host, port = args.host or "127.0.0.1", args.port or 9999
    chaos = chaos_from_args(parser, args, host)
    lang = args.lang or detect_language()
    return cli_main(host, port, lang, tls_for(args, host, port, trust_asker(lang)), chaos)


def run_client(argv: List[str]) -> int:
    import client_main
    return client_main.main(argv)


def run_server(argv: List[str]) -> int:
    import server_main
    return server_main.main(argv)


def has_display() -> bool:
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def demo_certificate(config):
    """The demo speaks TLS when a certificate exists or can be made; else plain TCP."""
    from net.tls import make_self_signed
    folder = os.path.join(config.data_dir, "tls")
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    try:
        return make_self_signed(folder, "localhost")
    except RuntimeError as exc:
        logging.getLogger("chatroom").warning("running without TLS: %s", exc)
        return None, None


def run_admin(argv: List[str]) -> int:
    """Grant or revoke the admin role in the database, whether the server runs or not (a
    running server sees the change at the user's next login or auth)."""
    p = argparse.ArgumentParser(
        prog="chatroom.py admin", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Make a user an admin (a teacher: mute, kick, quiet, delete, see "
        "hand-ins), or a member again. Give the server's --db or --data-dir.",
        epilog="examples:\n  python chatroom.py admin grant alice\n"
               "  python chatroom.py admin revoke alice --data-dir ~/chat\n"
               "  python chatroom.py admin grant teacher --db mysql://chat:pw@db:3306/chatroom")
    p.add_argument("action", choices=["grant", "revoke"])
    p.add_argument("username")
    p.add_argument("--data-dir", default=os.path.join(".", "chatroom-data"))
    p.add_argument("--db", help="default sqlite:///DATA_DIR/chatroom.db")
    args = p.parse_args(argv)
    from db import StoreError, open_store
    from net.rules import username_key
    url = args.db or "sqlite:///" + os.path.join(args.data_dir, "chatroom.db")
    if not args.db and not os.path.exists(os.path.join(args.data_dir, "chatroom.db")):
        print("no database at %s (give --data-dir or --db)" % url, file=sys.stderr)
        return 2
    try:
        store = open_store(url)
        try:
            role = "admin" if args.action == "grant" else "member"
            user = store.set_role(username_key(args.username), role)
            if user is not None:
                store.add_audit(time.time(), None, args.action, user.id, "role %s" % role)
        finally:
            store.close()
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 2
    if user is None:
        print("there is no user %r" % args.username, file=sys.stderr)
        return 1
    print("%s is now %s" % (user.username, "an admin" if user.role == "admin" else "a member"))
    return 0


def run_make_cert(argv: List[str]) -> int:
    from net.tls import cert_fingerprint_file, make_self_signed
    p = argparse.ArgumentParser(
        prog="chatroom.py make-cert", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write a self-signed certificate and key (for a LAN server without a "
        "CA-signed one) into DATA_DIR/tls, and print its fingerprint for the students.",
        epilog="examples:\n  python chatroom.py make-cert --host 192.168.1.10\n"
               "  python chatroom.py server --host 0.0.0.0 --tls-cert chatroom-data/tls/cert.pem"
               " --tls-key chatroom-data/tls/key.pem")
    p.add_argument("--host", default="localhost", help="the name or address students use")
    p.add_argument("--data-dir", default=os.path.join(".", "chatroom-data"))
    args = p.parse_args(argv)
    try:
        cert, key = make_self_signed(os.path.join(args.data_dir, "tls"), args.host)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    print("certificate: %s\nkey:         %s\nSHA-256 fingerprint (students compare this when "
          "they first connect):\n  %s" % (cert, key, cert_fingerprint_file(cert)))
    return 0


def run_demo(argv: List[str]) -> int:
    """The server and the GUI in one process: the server's loop on a thread, Tk on the main
    thread (Tk insists). Without a display, the server alone, with a hint."""
    import server_main
    from options import SERVER_CONFIG_FILE, build_parser, config_from_args, parse_with_config
    parser = build_parser()
    parser.prog = "chatroom.py"
    parser.add_argument("--lang", choices=("zh", "en"), default=None)
    parser.add_argument("--no-tls", action="store_true",
                        help="serve plain TCP even where a certificate could be made")
    args = parse_with_config(parser, argv, SERVER_CONFIG_FILE)
    from options import chaos_from_args
    chaos = chaos_from_args(parser, args, args.host)
    server_main.setup_logging(args.log_level, args.log_file)
    config = config_from_args(args)
    if not (config.tls_cert or args.no_tls):
        config.tls_cert, config.tls_key = demo_certificate(config)
    from ui.demo import ALREADY_RUNNING_CLI, SMS_HERE, demo_text, running_server
    if not has_display():
        tls_hint = ""
        if config.tls_cert:
            from net.tls import cert_fingerprint_file
            fp = cert_fingerprint_file(config.tls_cert)
            tls_hint = ("The connection is encrypted (TLS). The certificate's fingerprint is\n"
                        "  %s\nStudents compare it when their client asks, or pass "
                        "--trust-fingerprint %s\n" % (fp, fp.replace(":", "")))
        tls_flag = " --tls" if config.tls_cert else ""
        print("No display here, so only the server runs. Students connect with:\n"
              "  python chatroom.py client --host THIS_MACHINE%s   (GUI)\n"
              "  python chatroom.py cli --host THIS_MACHINE%s      (terminal)\n"
              "Add --host 0.0.0.0 to accept connections from other machines.\n%s"
              % (tls_flag, tls_flag, tls_hint), flush=True)
        if config.sms == "console":
            print(demo_text(args.lang, SMS_HERE), flush=True)
        rc = server_main.serve(config, chaos=chaos)
        host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
        if rc == 2 and config.auth_port and running_server(host, config.auth_port):
            print(demo_text(args.lang, ALREADY_RUNNING_CLI, host=host,
                            port=config.auth_port), file=sys.stderr, flush=True)
        return rc
    if config.sms == "console":  # issue 20: the register window waits for a code from here
        print(demo_text(args.lang, SMS_HERE), flush=True)
    ready = threading.Event()
    box = {}

    def on_ready(loop, cfg):
        box["loop"] = loop
        ready.set()
    thread = threading.Thread(target=lambda: box.setdefault("rc", server_main.serve(
                                  config, on_ready, chaos=chaos)),
                              name="server", daemon=True)
    thread.start()
    import client_main
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    while not ready.wait(0.1):
        if not thread.is_alive():  # issue 20: a second demo said only "Address in use"
            return demo_on_running_server(args, config, host) or box.get("rc", 2)
    client_args = ["--host", host, "--port", str(config.ports["auth"])]
    if config.tls_cert:  # we made this certificate ourselves: pin it, no question to ask
        from net.tls import cert_fingerprint_file
        from ui.pins import KnownServers
        KnownServers().pin("%s:%d" % (host, config.ports["auth"]),
                           cert_fingerprint_file(config.tls_cert))
    if args.lang:
        client_args += ["--lang", args.lang]
    if chaos is not None:  # both ends, each with its own cuts
        client_args += ["--chaos", str(chaos.seed)]
        if chaos.anywhere:
            client_args.append("--chaos-anywhere")
    loop = box["loop"]
    try:
        # Quitting while others are connected asks first (issue 20).
        rc = client_main.main(client_args, hosted_people=lambda: chatting(loop))
    finally:
        loop.stop()
        thread.join(6)
    return rc


def chatting(loop) -> Set[str]:
    """Who has a chat connection to the demo's server, read from the client's thread: list()
    of the loop's peers is one step under the GIL, and a peer's state is set once."""
    from server.chat import ChatState
    return {peer.state.username for peer in list(loop.peers.values())
            if isinstance(peer.state, ChatState)}


def demo_on_running_server(args, config, host: str) -> Optional[int]:
    """The demo's server could not start. When that is because a chatroom server already
    runs on its port (another demo, say), say so and open a client on that one; when
    another program holds the port, say so. None: neither, the server's log said why."""
    import client_main
    from ui.demo import ALREADY_RUNNING, PORT_TAKEN, demo_text, running_server
    port = config.auth_port
    if not port:
        return None
    found = running_server(host, port)
    if found is None:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            return None  # the port is free: something else went wrong, the log says what
        print(demo_text(args.lang, PORT_TAKEN, server="%s:%d" % (host, port)),
              file=sys.stderr, flush=True)
        return 2
    tls, fingerprint = found
    print(demo_text(args.lang, ALREADY_RUNNING, server="%s:%d" % (host, port)), flush=True)
    client_args = ["--host", host, "--port", str(port)] + (["--tls"] if tls else [])
    if args.lang:
        client_args += ["--lang", args.lang]
    if tls and config.tls_cert and fingerprint:
        from net.tls import cert_fingerprint_file
        from ui.pins import KnownServers
        if cert_fingerprint_file(config.tls_cert) == fingerprint:  # our own certificate
            KnownServers().pin("%s:%d" % (host, port), fingerprint)
    return client_main.main(client_args)


# What the single-file build carries: the launchers, the schema and the runtime packages.
BUILD_FILES = ("chatroom.py", "server_main.py", "client_main.py", "options.py", "schema.sql")
BUILD_PACKAGES = ("net", "server", "db", "ui")
BUILD_MAIN = "import sys\nimport chatroom\nsys.exit(chatroom.main())\n"


# Every member of the build gets this timestamp, so the same sources always give the same
# bytes (whenever and wherever they were checked out), and a checksum can vouch for a copy.
BUILD_TIMESTAMP = (2020, 1, 1, 0, 0, 0)


def build(source: str, output: str) -> str:
    """Write a zipapp (stdlib zipfile) that runs on a bare Python 3.8+: python chatroom.pyz"""
    import zipfile
    if os.path.isfile(source):  # run from a zipapp (issue 20): its members are the sources
        with zipfile.ZipFile(source) as z:
            members = [(name, z.read(name)) for name in z.namelist()]
        return _write_zipapp(members, output)
    members = [("__main__.py", BUILD_MAIN.encode("utf-8"))]
    paths = list(BUILD_FILES)
    for package in BUILD_PACKAGES:  # with its subpackages (ui/tk/ ...), in a fixed order
        for folder, dirs, files in os.walk(os.path.join(source, package)):
            # Only subpackages: never __pycache__ or a stray folder of something else.
            dirs[:] = sorted(d for d in dirs
                             if os.path.isfile(os.path.join(folder, d, "__init__.py")))
            prefix = os.path.relpath(folder, source).replace(os.sep, "/") + "/"
            paths += [prefix + name for name in sorted(files) if name.endswith(".py")]
    for name in paths:
        with open(os.path.join(source, *name.split("/")), "rb") as f:
            members.append((name, f.read()))
    return _write_zipapp(members, output)


def _write_zipapp(members: List[Tuple[str, bytes]], output: str) -> str:
    import zipfile
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"#!/usr/bin/env python3\n")
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=BUILD_TIMESTAMP)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, data)
    os.chmod(tmp, 0o755)
    os.replace(tmp, output)
    return output


def default_build_output() -> str:
    # `pip install .` puts these modules in site-packages, where a build has no business.
    # Run from chatroom.pyz itself, HERE is that file: dist/ of the current folder too.
    installed = os.path.basename(HERE) in ("site-packages", "dist-packages") or \
        os.path.isfile(HERE)
    return os.path.join("dist" if installed else os.path.join(HERE, "dist"), "chatroom.pyz")


def run_build(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="chatroom.py build",
                                description="Write dist/chatroom.pyz: one file that runs the "
                                "server and both clients on a bare Python 3.8+.",
                                epilog="examples:\n  python chatroom.py build\n"
                                       "  python dist/chatroom.pyz server --host 0.0.0.0\n"
                                       "  python dist/chatroom.pyz cli --host 192.168.1.10",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", default=default_build_output(),
                   help="default: dist/chatroom.pyz beside chatroom.py, or in the current "
                   "folder for an installed chatroom")
    args = p.parse_args(argv)
    path = build(HERE, args.output)
    print("wrote %s (%d KB). Run it with: python %s" % (path, os.path.getsize(path) // 1024,
                                                       os.path.relpath(path)))
    return 0


COMMANDS = {"server": run_server, "client": run_client, "cli": run_cli, "build": run_build,
            "admin": run_admin,
            "make-cert": run_make_cert}


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if argv and argv[0] == "--version":  # the same string as hello's "server" field
        from server.config import VERSION
        print("chatroom " + VERSION)
        return 0
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:])
    if argv and not argv[0].startswith("-"):
        print("unknown command %r\n\n%s" % (argv[0], USAGE), file=sys.stderr)
        return 2
    return run_demo(argv)


if __name__ == "__main__":
    sys.exit(main())
