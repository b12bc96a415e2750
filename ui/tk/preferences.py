"""The preferences window: language, server, download folder, notifications, text size and
theme (both applied the moment they are saved)."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from ui.i18n import Catalog
from ui.presenters.preferences import FONT_SIZES, Preferences, PreferencesPresenter
from ui.tk.common import MUTED_LABEL, ask_folder, place_over


class PreferencesWindow:
    """Nobody keeps this window but its own widgets' callbacks, so it holds its presenter
    (which never draws on it) directly; both go when the window is destroyed."""

    def __init__(self, master: tk.Misc, tr: Catalog, presenter: PreferencesPresenter) -> None:
        self.presenter = presenter
        self.window = window = tk.Toplevel(master)
        window.title(tr("settings.title"))
        window.resizable(False, False)
        current = presenter.current()
        body = ttk.Frame(window, padding=16)
        body.pack(fill="both", expand=True)
        self.language = tk.StringVar(window, value=current.language)
        self.server = tk.StringVar(window, value=current.server)
        self.download_dir = tk.StringVar(window, value=current.download_dir)
        self.notify = tk.BooleanVar(window, value=current.notify)
        ttk.Label(body, text=tr("settings.language")).grid(row=0, column=0, sticky="w", pady=4)
        langs = ttk.Frame(body)
        langs.grid(row=0, column=1, sticky="w")
        ttk.Radiobutton(langs, text="中文", value="zh", variable=self.language).pack(side="left")
        ttk.Radiobutton(langs, text="English", value="en",
                        variable=self.language).pack(side="left", padx=8)
        ttk.Label(body, text=tr("settings.server")).grid(row=1, column=0, sticky="w", pady=4)
        ttk.Entry(body, textvariable=self.server, width=32).grid(row=1, column=1, sticky="w")
        ttk.Label(body, text=tr("settings.download_dir")).grid(row=2, column=0, sticky="w",
                                                               pady=4)
        folder = ttk.Frame(body)
        folder.grid(row=2, column=1, sticky="w")
        ttk.Entry(folder, textvariable=self.download_dir, width=24).pack(side="left")
        ttk.Button(folder, text=tr("settings.browse"), command=self._browse).pack(side="left",
                                                                                 padx=4)
        ttk.Checkbutton(body, text=tr("settings.notify"), variable=self.notify).grid(
            row=3, column=0, columnspan=2, sticky="w", pady=8)
        self.font_size = tk.StringVar(window, value=str(current.font_size))
        self.theme = tk.StringVar(window, value=current.theme)
        ttk.Label(body, text=tr("settings.font_size")).grid(row=4, column=0, sticky="w", pady=4)
        self.font_size_box = ttk.Spinbox(body, from_=FONT_SIZES[0], to=FONT_SIZES[-1],
                                         textvariable=self.font_size, width=5)
        self.font_size_box.grid(row=4, column=1, sticky="w")
        ttk.Label(body, text=tr("settings.theme")).grid(row=5, column=0, sticky="w", pady=4)
        themes = ttk.Frame(body)
        themes.grid(row=5, column=1, sticky="w")
        ttk.Radiobutton(themes, text=tr("settings.theme_light"), value="light",
                        variable=self.theme).pack(side="left")
        ttk.Radiobutton(themes, text=tr("settings.theme_dark"), value="dark",
                        variable=self.theme).pack(side="left", padx=8)
        ttk.Label(body, text=tr("settings.restart_lang"), style=MUTED_LABEL).grid(
            row=6, column=0, columnspan=2, sticky="w")
        self.save_button = ttk.Button(body, text=tr("settings.save"), style="Accent.TButton",
                                      command=self._save)
        self.save_button.grid(row=7, column=1, sticky="e", pady=(10, 0))
        window.bind("<Escape>", lambda e: self.close())
        window.bind("<Return>", lambda e: self._save())
        window.transient(master.winfo_toplevel())
        place_over(window, master)

    def close(self) -> None:
        self.window.destroy()

    def _browse(self) -> None:
        folder = ask_folder(self.window, initial=self.download_dir.get())
        if folder:
            self.download_dir.set(folder)

    def _save(self) -> None:
        self.presenter.save(Preferences(self.language.get(), self.server.get(),
                                        self.download_dir.get(), self.notify.get(),
                                        self.font_size.get(), self.theme.get()))
        self.close()
