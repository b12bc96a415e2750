"""The preferences window: what it shows to start with, and saving what the user chose."""
from __future__ import annotations

from typing import Any, NamedTuple

from ui.presenters.common import Shell

# The text sizes Preferences offers (points): small enough for a projector's crowded
# screen, large enough to read from the back of a classroom.
FONT_SIZES = tuple(range(8, 21))
DEFAULT_FONT_SIZE = 10
THEMES = ("light", "dark")


class Preferences(NamedTuple):
    language: str  # 'zh' or 'en'
    server: str  # host:port
    download_dir: str
    notify: bool  # beep and flash on new messages while the window is not focused
    font_size: int = DEFAULT_FONT_SIZE  # points, of the chat window's text
    theme: str = "light"  # one of THEMES


def font_size_of(value: Any) -> int:
    """A text size from the settings file, kept within FONT_SIZES (a hand-edited file may
    say anything)."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        return DEFAULT_FONT_SIZE
    return min(max(size, FONT_SIZES[0]), FONT_SIZES[-1])


class PreferencesPresenter:
    def __init__(self, app: Shell) -> None:
        self.app = app

    def current(self) -> Preferences:
        s = self.app.settings
        theme = getattr(s, "theme", "light")
        return Preferences(s.language or self.app.tr.language, s.server, s.download_folder(),
                           s.notify, font_size_of(getattr(s, "font_size", DEFAULT_FONT_SIZE)),
                           theme if theme in THEMES else "light")

    def save(self, chosen: Preferences) -> None:
        """Saved, and applied at once: the application redraws on a new size or theme."""
        self.app.remember(language=chosen.language, server=chosen.server,
                          download_dir=chosen.download_dir, notify=chosen.notify,
                          font_size=font_size_of(chosen.font_size),
                          theme=chosen.theme if chosen.theme in THEMES else "light")
