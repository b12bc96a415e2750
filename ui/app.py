"""The GUI application: one Tk root, one Session, the presenters, and the ``after()`` tick
that drives the network. No threads anywhere: the tick polls the sockets with zero timeout
and advances transfers a slice at a time, then reschedules itself.
"""
from __future__ import annotations

import gc
import logging
import time
import tkinter as tk
from typing import Any, Optional, Tuple

from ui.i18n import Catalog
from ui.presenters import ChatPresenter, FilesPresenter, LoginPresenter, RegisterPresenter
from ui.session import Session
from ui.settings import ClientSettings
from ui.windows import (
    ChatView,
    FilesView,
    LoginView,
    RegisterView,
    SettingsView,
    apply_language,
    apply_style,
    ask_files,
    ask_folder,
    ask_trust,
)

log = logging.getLogger(__name__)

# The network tick: 20 ms keeps typing and chat latency imperceptible and costs ~nothing idle.
TICK_MS = 20
# Time a tick may spend moving transfers along (hashing, sending), out of every TICK_MS.
TRANSFER_BUDGET_S = 0.008
# Transfer rows and the send-code countdown are redrawn this often.
REDRAW_S = 0.2


def collect_here() -> None:
    """Collect garbage now, on the Tk thread. Windows just destroyed are often in reference
    cycles (view <-> presenter); if another thread's collection freed them (the demo runs the
    server on one), their Tcl variables would be unset from the wrong thread, and freeing the
    interpreter there makes Tcl abort the whole process."""
    gc.collect()


class App:
    """Methods the presenters call: connect(address), open_register(), registered(name),
    open_chat(), remember(**settings), plus the menu actions."""

    def __init__(self, root: tk.Tk, settings: ClientSettings, language: str,
                 settings_path: Optional[str] = None, tls_for: Any = None) -> None:
        self.root = root
        self.tls_for = tls_for  # (host, port, decide) -> TlsOptions or None
        self.settings = settings
        self.settings_path = settings_path
        self.tr = Catalog(language)
        self.session: Optional[Session] = None
        self.login_view: Optional[LoginView] = None
        self.register_view: Optional[RegisterView] = None
        self.register_presenter: Optional[RegisterPresenter] = None
        self.chat_view: Optional[ChatView] = None
        self.chat: Optional[ChatPresenter] = None
        self.files: Optional[FilesPresenter] = None
        self.files_view: Optional[FilesView] = None
        self._after_id: Optional[str] = None
        self._redrawn = 0.0
        self.longest_tick_s = 0.0  # the benchmark reads this
        apply_style(root)
        apply_language(root, self.tr.language)
        root.title(self.tr("app.name"))
        root.protocol("WM_DELETE_WINDOW", self.quit)
        self.show_login()
        self._tick()

    # -- the pump -------------------------------------------------------------------------

    def _tick(self) -> None:
        started = time.perf_counter()
        try:
            if self.session is not None:
                self.session.poll()
            if self.files is not None:
                self.files.tick(TRANSFER_BUDGET_S)
            now = time.monotonic()
            if now - self._redrawn > REDRAW_S:
                self._redrawn = now
                if self.register_presenter is not None and self.register_view is not None \
                        and self.register_view.winfo_exists():
                    self.register_presenter.tick()
                if self.files_view is not None and self.files_view.winfo_exists():
                    self.files_view.show_transfers(self.files.transfer_rows(now))
        except Exception:  # a bug must not stop the pump: log it, keep the window alive
            log.exception("error in the GUI tick")
        self.longest_tick_s = max(self.longest_tick_s, time.perf_counter() - started)
        self._after_id = self.root.after(TICK_MS, self._tick)

    # -- session listener: fan out to the presenters ---------------------------------------

    def on_state(self, state: str, detail: str) -> None:
        if self.chat is not None:
            self.chat.on_state(state, detail)

    def on_welcome(self, reply: Any) -> None:
        if self.chat is not None:
            self.chat.on_welcome(reply)

    def on_message(self, event: Any) -> None:
        if self.chat is not None:
            self.chat.on_message(event)

    def on_presence(self, event: Any) -> None:
        if self.chat is not None:
            self.chat.on_presence(event)

    def on_file_added(self, event: Any) -> None:
        if self.chat is not None:
            self.chat.on_file_added(event)
        if self.files is not None:
            self.files.on_file_added(event)

    def on_file_removed(self, event: Any) -> None:
        if self.chat is not None:
            self.chat.on_file_removed(event)
        if self.files is not None:
            self.files.on_file_removed(event)

    def on_files(self, files: Any) -> None:
        if self.files is not None:
            self.files.on_files(files)

    # -- windows --------------------------------------------------------------------------

    def connect(self, address: Tuple[str, int]) -> Session:
        if self.session is None or (self.session.host, self.session.port) != address:
            if self.session is not None:
                self.session.close()
            tls = self.tls_for(address[0], address[1], self._ask_trust) if self.tls_for else None
            self.session = Session(address[0], address[1], self, tls=tls)
        return self.session

    def _ask_trust(self, server: str, fingerprint: str) -> bool:
        return ask_trust(self.root, self.tr, server, fingerprint)

    def show_login(self) -> None:
        self.root.title(self.tr("login.title") + " — " + self.tr("app.name"))
        self.login_view = LoginView(self.root, self.tr, self.settings.server,
                                    self.settings.last_login)
        self.login_view.presenter = LoginPresenter(self, self.login_view)
        self.login_view.pack(fill="both", expand=True)

    def open_register(self) -> None:
        if self.register_view is not None and self.register_view.winfo_exists():
            self.register_view.lift()
            return
        self.register_view = RegisterView(self.root, self.tr)
        self.register_presenter = RegisterPresenter(self, self.register_view)
        self.register_view.presenter = self.register_presenter
        self.register_presenter.start()

    def registered(self, username: str) -> None:
        if self.register_view is not None:
            self.register_view.destroy()
        self.register_view = self.register_presenter = None
        collect_here()
        if self.login_view is not None:
            self.login_view.login.set(username)
            self.login_view.show_info(self.tr("register.done"))
            self.login_view.entry_2.focus_set()

    def open_chat(self) -> None:
        if self.register_view is not None and self.register_view.winfo_exists():
            self.register_view.destroy()
        if self.login_view is not None:
            self.login_view.destroy()
            self.login_view = None
        collect_here()
        self.chat_view = ChatView(self.root, self.tr, self)
        self.chat = ChatPresenter(self, self.chat_view)
        self.chat_view.presenter = self.chat
        self.files = FilesPresenter(self, None)
        self.chat_view.pack(fill="both", expand=True)
        self.root.title(self.tr("chat.title", user=self.session.username))
        self.chat.switch_to("")
        self.chat.on_state(self.session.state, "")

    def open_files(self) -> None:
        if self.files_view is not None and self.files_view.winfo_exists():
            self.files_view.lift()
            return
        self.files_view = FilesView(self.root, self.tr, self)
        self.files_view.presenter = self.files
        self.files.view = self.files_view
        self.files._show()
        self.session.refresh_files()

    def upload_file(self) -> None:
        paths = ask_files(self.root)
        if paths:
            self.files.upload_paths(paths)
            self.open_files()

    def upload_folder(self) -> None:
        folder = ask_folder(self.root)
        if folder:
            self.files.upload_paths([folder])
            self.open_files()

    def open_settings(self) -> None:
        SettingsView(self.root, self.tr, self)

    def remember(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self.settings, key, value)
        self.settings.save(self.settings_path)

    def logout(self) -> None:
        if self.session is not None:
            self.session.logout()
        for view in (self.files_view, self.chat_view):
            if view is not None and view.winfo_exists():
                view.destroy()
        self.root.configure(menu="")
        self.chat = self.chat_view = self.files = self.files_view = None
        collect_here()
        self.show_login()

    def quit(self) -> None:
        if self._after_id is not None:
            self.root.after_cancel(self._after_id)
            self._after_id = None
        if self.session is not None:
            self.session.close()
        self.root.destroy()
