"""Client composition root: options -> Tk root -> the App (session, presenters, windows).

    python client_main.py                       # connect to 127.0.0.1:9999 (or the last server)
    python client_main.py --host 192.168.1.10   # the teacher's machine
    python client_main.py --lang en
"""
from __future__ import annotations

import gc
import logging
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    from chatroom import CLIENT_CONFIG_FILE, client_parser, parse_with_config
    args = parse_with_config(client_parser("client_main.py", "The chatroom desktop client."),
                             argv, CLIENT_CONFIG_FILE)
    logging.basicConfig(level=logging.WARNING)
    try:
        import tkinter as tk
    except ImportError:
        print("This Python has no tkinter. Install it (Debian/Ubuntu: apt install python3-tk) "
              "or use the terminal client: python chatroom.py cli", file=sys.stderr)
        return 2
    from ui.app import App
    from ui.i18n import detect_language
    from ui.settings import ClientSettings
    settings = ClientSettings.load()
    if args.host or args.port:
        settings.server = "%s:%d" % (args.host or "127.0.0.1", args.port or 9999)
    language = args.lang or settings.language or detect_language()
    try:
        root = tk.Tk()
    except tk.TclError as exc:
        print("Cannot open a window (%s). Without a display, use the terminal client: "
              "python chatroom.py cli --host %s" % (exc, args.host or "127.0.0.1"),
              file=sys.stderr)
        return 2
    from chatroom import tls_for
    app = App(root, settings, language,
              tls_for=lambda host, port, decide: tls_for(args, host, port, decide))
    root.mainloop()
    # Free Tk here, on its own thread (see ui.app.collect_here): in the demo the server
    # thread is still running and would otherwise be the one to collect it.
    del app, root
    gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
