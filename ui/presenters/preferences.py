"""The preferences window: what it shows to start with, and saving what the user chose."""
from __future__ import annotations

from typing import NamedTuple

from ui.presenters.common import Shell


class Preferences(NamedTuple):
    language: str  # 'zh' or 'en'
    server: str  # host:port
    download_dir: str
    notify: bool  # beep and flash on new messages while the window is not focused


class PreferencesPresenter:
    def __init__(self, app: Shell) -> None:
        self.app = app

    def current(self) -> Preferences:
        s = self.app.settings
        return Preferences(s.language or self.app.tr.language, s.server, s.download_folder(),
                           s.notify)

    def save(self, chosen: Preferences) -> None:
        self.app.remember(language=chosen.language, server=chosen.server,
                          download_dir=chosen.download_dir, notify=chosen.notify)
