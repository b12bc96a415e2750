"""Client composition root: options -> settings -> the Tk App (ui/tk/app.py), run until quit.

    python client_main.py                       # connect to 127.0.0.1:9999 (or the last server)
    python client_main.py --host 192.168.1.10   # the teacher's machine
    python client_main.py --lang en
"""
from __future__ import annotations

import logging
import sys
from typing import Callable, List, Optional, Set

from options import (
    CLIENT_CONFIG_FILE,
    chaos_from_args,
    client_parser,
    discover_targets,
    parse_with_config,
    tls_for,
)


def main(argv: Optional[List[str]] = None,
         hosted_people: Optional[Callable[[], Set[str]]] = None) -> int:
    """hosted_people: the demo (chatroom.py) runs the server in this process; it tells who
    chats on it, so quitting can warn that others would be cut off."""
    parser = client_parser("chatroom.py client", "The chatroom desktop client.")
    args = parse_with_config(parser, argv, CLIENT_CONFIG_FILE)
    chaos = chaos_from_args(parser, args, args.host)
    logging.basicConfig(level=logging.WARNING)
    try:
        discover_to = discover_targets(args)  # names looked up now: the GUI never waits on DNS
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        from ui.tk.app import NoDisplay, run
    except ImportError as exc:
        if exc.name not in ("tkinter", "_tkinter"):
            raise
        print("This Python has no tkinter. Install it (Debian/Ubuntu: apt install python3-tk) "
              "or use the terminal client: python chatroom.py cli", file=sys.stderr)
        return 2
    from ui.i18n import detect_language
    from ui.settings import ClientSettings
    settings = ClientSettings.load()
    if args.host or args.port:
        settings.server = "%s:%d" % (args.host or "127.0.0.1", args.port or 9999)
    language = args.lang or settings.language or detect_language()
    try:
        # Returns once the user has quit, with every Tk object already freed on this thread
        # (the demo's server thread must never be the one to free them).
        run(settings, language,
            tls_for=lambda host, port, decide: tls_for(args, host, port, decide), chaos=chaos,
            discover_to=discover_to, hosted_people=hosted_people)
    except NoDisplay as exc:
        print("Cannot open a window (%s). Without a display, use the terminal client: "
              "python chatroom.py cli --host %s" % (exc, args.host or "127.0.0.1"),
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
