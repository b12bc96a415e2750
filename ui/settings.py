"""The client's settings file: remembered server, language, download folder, notifications.

JSON in the user's config folder (``%APPDATA%\\chatroom`` on Windows, ``~/.config/chatroom``
elsewhere, or ``$CHATROOM_CONFIG_DIR``). A damaged file is set aside, never fatal.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, fields
from typing import Optional

log = logging.getLogger(__name__)


def config_dir() -> str:
    if os.environ.get("CHATROOM_CONFIG_DIR"):
        return os.environ["CHATROOM_CONFIG_DIR"]
    if sys.platform.startswith("win") and os.environ.get("APPDATA"):
        return os.path.join(os.environ["APPDATA"], "chatroom")
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "chatroom")


@dataclass
class ClientSettings:
    server: str = "127.0.0.1:9999"
    language: str = ""  # '' = from the locale
    download_dir: str = ""  # '' = ~/Downloads (or home)
    upload_dir: str = ""  # where the last upload was chosen; '' = home
    notify: bool = True
    last_login: str = ""
    tls: bool = False  # the login window's "Encrypted (TLS)" (issue 20)
    font_size: int = 10  # points, of the chat window's text (issue 20, Preferences)
    theme: str = "light"  # 'light' or 'dark' (issue 20, Preferences)

    def download_folder(self) -> str:
        if self.download_dir:
            return self.download_dir
        downloads = os.path.join(os.path.expanduser("~"), "Downloads")
        return downloads if os.path.isdir(downloads) else os.path.expanduser("~")

    def upload_folder(self) -> str:
        """Where the upload choosers start: never the program's working folder, where an OK
        without a look around uploaded the whole of it."""
        if self.upload_dir and os.path.isdir(self.upload_dir):
            return self.upload_dir
        return os.path.expanduser("~")

    @classmethod
    def load(cls, path: Optional[str] = None) -> "ClientSettings":
        path = path or os.path.join(config_dir(), "client.json")
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except FileNotFoundError:
            return cls()
        except (ValueError, TypeError, OSError) as exc:
            log.warning("ignoring unreadable settings %s: %s", path, exc)
            return cls()

    def save(self, path: Optional[str] = None) -> None:
        path = path or os.path.join(config_dir(), "client.json")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(asdict(self), f, ensure_ascii=False, indent=2)
            os.replace(tmp, path)  # never leave a half-written settings file
        except OSError as exc:
            log.warning("cannot save settings to %s: %s", path, exc)
