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
import sys
import threading
from typing import List, Optional

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

`python chatroom.py COMMAND --help` shows each command's options.
The demo takes the server's options too, e.g. python chatroom.py --data-dir ~/chat --lang en
"""


def client_parser(prog: str, description: str) -> argparse.ArgumentParser:
    from ui.i18n import LANGUAGES
    p = argparse.ArgumentParser(prog=prog, description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="examples:\n  python %s --host 192.168.1.10\n"
                                       "  python %s --host 127.0.0.1 --port 9999 --lang zh"
                                       % (prog, prog))
    p.add_argument("--host", default=None, help="the server's address (default 127.0.0.1, "
                   "or the last one used)")
    p.add_argument("--port", type=int, default=None, help="its auth port (default 9999)")
    p.add_argument("--lang", choices=LANGUAGES, default=None,
                   help="zh or en (default: from the locale)")
    return p


def run_cli(argv: List[str]) -> int:
    from ui.cli import main as cli_main
    from ui.i18n import detect_language
    args = client_parser("chatroom.py cli", "The terminal chatroom client. Reads commands "
                         "from stdin; /help lists them.").parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return cli_main(args.host or "127.0.0.1", args.port or 9999,
                    args.lang or detect_language())


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


def run_demo(argv: List[str]) -> int:
    """The server and the GUI in one process: the server's loop on a thread, Tk on the main
    thread (Tk insists). Without a display, the server alone, with a hint."""
    import server_main
    parser = server_main.build_parser()
    parser.prog = "chatroom.py"
    parser.add_argument("--lang", choices=("zh", "en"), default=None)
    args = parser.parse_args(argv)
    server_main.setup_logging(args.log_level)
    config = server_main.config_from_args(args)
    if not has_display():
        print("No display here, so only the server runs. Students connect with:\n"
              "  python chatroom.py client --host THIS_MACHINE   (GUI)\n"
              "  python chatroom.py cli --host THIS_MACHINE      (terminal)\n"
              "Add --host 0.0.0.0 to accept connections from other machines.\n", flush=True)
        return server_main.serve(config)
    ready = threading.Event()
    box = {}

    def on_ready(loop, cfg):
        box["loop"] = loop
        ready.set()
    thread = threading.Thread(target=lambda: box.setdefault("rc", server_main.serve(config,
                                                                                  on_ready)),
                              name="server", daemon=True)
    thread.start()
    while not ready.wait(0.1):
        if not thread.is_alive():
            return box.get("rc", 2)
    import client_main
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    client_args = ["--host", host, "--port", str(config.ports["auth"])]
    if args.lang:
        client_args += ["--lang", args.lang]
    try:
        rc = client_main.main(client_args)
    finally:
        box["loop"].stop()
        thread.join(6)
    return rc


# What the single-file build carries: the launchers, the schema and the runtime packages.
BUILD_FILES = ("chatroom.py", "server_main.py", "client_main.py", "schema.sql")
BUILD_PACKAGES = ("net", "server", "db", "ui")
BUILD_MAIN = "import sys\nimport chatroom\nsys.exit(chatroom.main())\n"


def build(source: str, output: str) -> str:
    """Write a zipapp (stdlib zipfile) that runs on a bare Python 3.8+: python chatroom.pyz"""
    import zipfile
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"#!/usr/bin/env python3\n")
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("__main__.py", BUILD_MAIN)
            for name in BUILD_FILES:
                z.write(os.path.join(source, name), name)
            for package in BUILD_PACKAGES:
                for entry in sorted(os.listdir(os.path.join(source, package))):
                    if entry.endswith(".py"):
                        z.write(os.path.join(source, package, entry), package + "/" + entry)
    os.chmod(tmp, 0o755)
    os.replace(tmp, output)
    return output


def run_build(argv: List[str]) -> int:
    p = argparse.ArgumentParser(prog="chatroom.py build",
                                description="Write dist/chatroom.pyz: one file that runs the "
                                "server and both clients on a bare Python 3.8+.",
                                epilog="examples:\n  python chatroom.py build\n"
                                       "  python dist/chatroom.pyz server --host 0.0.0.0\n"
                                       "  python dist/chatroom.pyz cli --host 192.168.1.10",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", default=os.path.join(HERE, "dist", "chatroom.pyz"))
    args = p.parse_args(argv)
    path = build(HERE, args.output)
    print("wrote %s (%d KB). Run it with: python %s" % (path, os.path.getsize(path) // 1024,
                                                       os.path.relpath(path)))
    return 0


COMMANDS = {"server": run_server, "client": run_client, "cli": run_cli, "build": run_build}


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:])
    if argv and not argv[0].startswith("-"):
        print("unknown command %r\n\n%s" % (argv[0], USAGE), file=sys.stderr)
        return 2
    return run_demo(argv)


if __name__ == "__main__":
    sys.exit(main())
