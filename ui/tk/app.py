"""The GUI application: one Tk root, one Session, the presenters and their windows, and the
``after()`` tick that drives the network. No threads anywhere: the tick polls the sockets with
zero timeout and advances transfers a slice at a time, then reschedules itself.

Who holds whom is a tree, so that letting go of the App (after quit()) frees every Tk object
by reference counting alone, right here on the Tk thread. (A garbage collection may run on
any thread: the demo runs the server on another one. Had Tk objects waited in a reference
cycle for it, their Tcl variables would be unset from the wrong thread, and freeing the
interpreter there makes Tcl abort the whole process.)

    App ─> root, session, presenters, windows, menu bar
    presenter ─> its view (the window);  window ─> presenter: a weak reference
        (the preferences window, which nobody else keeps, holds its presenter itself)
    session ─> App (its listener): quit() lets go of the session
    Tcl ─> the callbacks of a widget: gone when it is destroyed; root bindings, variable
           traces and timers, which outlive widgets, are removed by each window's close()

tests/test_gui.py checks it: with the collector switched off, nothing is left after quit().
"""
from __future__ import annotations

import logging
import os
import time
import tkinter as tk
from tkinter import messagebox
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from net.chaos import Chaos
from net.client import ClientConnection, TlsOptions, chaotic
from net.datagrams import Prober, Target, probe_targets
from ui.i18n import Catalog
from ui.pins import KnownServers, tls_options
from ui.presenters.audit import AuditPresenter
from ui.presenters.chat import ChatPresenter
from ui.presenters.files import FilesPresenter
from ui.presenters.inspector import InspectorPresenter
from ui.presenters.login import LoginPresenter
from ui.presenters.preferences import PreferencesPresenter, font_size_of
from ui.presenters.register import RegisterPresenter
from ui.previews import PreviewCache
from ui.session import Session, parse_address
from ui.settings import ClientSettings, config_dir
from ui.tk.audit import AuditWindow, add_teacher_menu
from ui.tk.chat import ChatWindow
from ui.tk.common import apply_language, apply_style, apply_theme, ask_files, ask_folder, ask_trust
from ui.tk.files import FilesWindow
from ui.tk.inspector import InspectorWindow
from ui.tk.login import LoginWindow
from ui.tk.preferences import PreferencesWindow
from ui.tk.register import RegisterWindow

log = logging.getLogger(__name__)

# The network tick: 20 ms keeps typing and chat latency imperceptible and costs ~nothing idle.
TICK_MS = 20
# Time a tick may spend moving transfers along (hashing, sending), out of every TICK_MS.
TRANSFER_BUDGET_S = 0.008
# While a transfer runs the next tick comes this soon instead: each tick stays as short
# (the budget), Tk handles the window's events between two ticks as before, and the
# transfer gets 2/3 of the time instead of 1/3 (a 1 GiB download: bench/gui_tick.py).
BUSY_TICK_MS = 4
# Time a tick may spend fetching pictures (the files window's preview, the chat's
# thumbnails): a picture is at most 5 MB, so this is only ever a few ticks' work.
PREVIEW_BUDGET_S = 0.002
# Transfer rows and the send-code countdown are redrawn this often.
REDRAW_S = 0.2

# tls_for(host, port, decide) -> TlsOptions or None; decide(server, fingerprint) -> trust?
TlsFor = Callable[[str, int, Callable[[str, str], bool]], Optional[TlsOptions]]
# discover_to() -> where a round of LAN discovery sends its probes (options.discover_targets)
DiscoverTo = Callable[[], List[Target]]


class NoDisplay(Exception):
    """Tk cannot open a window here (no display); the message says why."""


class App:
    """Methods the presenters call (ui.presenters.common.Shell): connect(address),
    remember(**settings), open_register(), close_register(), registered(name), open_chat().
    The session's listener (ui.session.SessionListener): on_state, on_welcome, ... .
    The menu's actions: open_files(), upload_file(), upload_folder(), open_settings(),
    logout(), quit(), open_inspector() (Network → Inspector); for teachers open_hand_ins(),
    open_audit()."""

    def __init__(self, root: tk.Tk, settings: ClientSettings, language: str,
                 settings_path: Optional[str] = None, tls_for: Optional[TlsFor] = None,
                 discover_to: Optional[DiscoverTo] = None,
                 chaos: Optional[Chaos] = None,
                 hosted_people: Optional[Callable[[], Set[str]]] = None) -> None:
        self.root = root
        # The demo: this process runs the server too, and this tells who is chatting on it
        # (we included); quitting stops it for everyone (issue 20).
        self.hosted_people = hosted_people
        self.tls_for = tls_for
        self.discover_to = discover_to or probe_targets
        # server -> the certificate fingerprint discovery announced for it: shown in the
        # trust dialog, never trusted without the user's yes
        self.announced: Dict[str, str] = {}
        self.settings = settings
        self.settings_path = settings_path
        self.tr = Catalog(language)
        self.session: Optional[Session] = None
        self.login_presenter: Optional[LoginPresenter] = None
        self.login_view: Optional[LoginWindow] = None
        self.register_presenter: Optional[RegisterPresenter] = None
        self.register_view: Optional[RegisterWindow] = None
        self.chat: Optional[ChatPresenter] = None
        self.chat_view: Optional[ChatWindow] = None
        self.files: Optional[FilesPresenter] = None
        self.files_view: Optional[FilesWindow] = None
        # The pictures fetched for the files window's preview and the chat's thumbnails.
        self.previews: Optional[PreviewCache] = None
        self.audit: Optional[AuditPresenter] = None  # the moderation log (teachers)
        self.audit_view: Optional[AuditWindow] = None
        self.menubar: Optional[tk.Menu] = None
        # Network → Inspector: open while these are set (the session shows it every frame)
        self.inspector: Optional[InspectorPresenter] = None
        self.inspector_view: Optional[InspectorWindow] = None
        # --chaos: every connection's reads and writes cut at random (net/chaos.py)
        self._open_connection = chaotic(chaos) if chaos is not None else ClientConnection
        self.closed = False
        self._after_id: Optional[str] = None
        self._redrawn = 0.0
        self.longest_tick_s = 0.0  # the benchmark reads this
        apply_style(root)
        apply_theme(root, self.settings.theme == "dark")  # issue 20: Preferences → Theme
        apply_language(root, self.tr.language)
        root.title(self.tr("app.name"))
        root.protocol("WM_DELETE_WINDOW", self.ask_quit)
        # Ctrl+Q in every window of the app: the same question as the close button
        for key in ("<Control-q>", "<Control-Q>"):
            root.bind_all(key, lambda e: self.ask_quit())
        self.show_login()
        self._tick()

    # -- the pump -------------------------------------------------------------------------

    def _tick(self) -> None:
        started = time.perf_counter()
        try:
            if self.session is not None:
                # the messages of this poll are drawn together, after it (ChatWindow.hold)
                view = self.chat_view
                if view is not None:
                    view.hold()
                try:
                    self.session.poll()
                finally:
                    if view is not None and view is self.chat_view:
                        view.release()
            if self.login_presenter is not None:
                self.login_presenter.poll()  # answers to "Find servers"
            if self.files is not None:
                self.files.tick(TRANSFER_BUDGET_S)
            if self.previews is not None:
                self.previews.step(PREVIEW_BUDGET_S)
            if self.inspector is not None:
                if self.inspector.closed:
                    self.close_inspector()
                else:
                    self.inspector.flush()
            now = time.monotonic()
            if now - self._redrawn > REDRAW_S:
                self._redrawn = now
                if self.register_presenter is not None:
                    self.register_presenter.tick()
                if self.files is not None:
                    self.files.redraw(now)
                if self.chat is not None:
                    self.chat.tick()  # a mute that ran out opens the input
        except Exception:  # a bug must not stop the pump: log it, keep the window alive
            log.exception("error in the GUI tick")
        self.longest_tick_s = max(self.longest_tick_s, time.perf_counter() - started)
        if not self.closed:
            busy = self.files is not None and self.files.busy
            self._after_id = self.root.after(BUSY_TICK_MS if busy else TICK_MS, self._tick)

    # -- session listener: fan out to the presenters ---------------------------------------

    def on_state(self, state: str, detail: str) -> None:
        if self.chat is not None:
            self.chat.on_state(state, detail)

    def on_welcome(self, reply: Dict[str, Any]) -> None:
        if self.chat is not None:
            self.chat.on_welcome(reply)

    def on_message(self, event: Dict[str, Any]) -> None:
        if self.chat is not None:
            self.chat.on_message(event)

    def on_presence(self, event: Dict[str, Any]) -> None:
        if self.chat is not None:
            self.chat.on_presence(event)

    def on_file_added(self, event: Dict[str, Any]) -> None:
        if self.chat is not None:
            self.chat.on_file_added(event)
        if self.files is not None:
            self.files.on_file_added(event)

    def on_file_removed(self, event: Dict[str, Any]) -> None:
        if self.chat is not None:  # its notice says what was deleted, and whose it was
            record = self.files.record(event.get("file_id")) if self.files is not None \
                else None
            self.chat.on_file_removed(event, record)
        if self.files is not None:
            self.files.on_file_removed(event)

    def on_files(self, files: List[Dict[str, Any]], more: bool) -> None:
        if self.files is not None:
            self.files.on_files(files, more)

    def on_moderation(self, event: Dict[str, Any]) -> None:
        if self.chat is not None:
            self.chat.on_moderation(event)

    def on_roles(self) -> None:
        if self.chat is not None:
            self.chat.on_roles()

    def on_message_deleted(self, event: Dict[str, Any]) -> None:
        if self.chat is not None:
            self.chat.on_message_deleted(event)

    def on_room_event(self, event: Dict[str, Any]) -> None:
        if self.chat is not None:
            self.chat.on_room_event(event)

    def on_kicked(self, event: Dict[str, Any]) -> None:
        """A teacher removed us: back to the login window, saying who, why and until when;
        the session does not reconnect (its token is dead)."""
        if self.chat is None:
            return
        self._close_chat()
        self.show_login()
        if self.login_presenter is not None:
            self.login_presenter.kicked(event)

    def on_logged_out(self, status: str) -> None:
        """The session ended on its own (a logout in another window, an expired login):
        back to the login window, saying why."""
        if self.chat is None:
            return
        self._close_chat()
        self.show_login()
        if self.login_presenter is not None:  # a password reset says by whom (issue 20)
            because = self.session.ended_because if self.session is not None else {}
            self.login_presenter.ended(status, because)

    # -- for the presenters ---------------------------------------------------------------

    def connect(self, address: Tuple[str, int]) -> Session:
        found = (self.login_presenter.discovered(address)
                 if self.login_presenter is not None else None)
        # TLS when the command line or a pin says so, when discovery found a TLS server, or
        # when the login window's "Encrypted (TLS)" is ticked (settings.tls, issue 20)
        tls_wanted = bool(self.settings.tls) or (found is not None and found.tls)
        stale = self.session is not None and (
            (self.session.host, self.session.port) != address
            or (tls_wanted and self.session.tls is None))
        if self.session is None or stale:
            if self.session is not None:
                self.session.close()
            tls = self.tls_for(address[0], address[1], self._ask_trust) if self.tls_for else None
            server = "%s:%d" % address
            if found is not None and found.tls:
                # Discovery says this server speaks TLS: so does the client, asking the user
                # about a certificate it has not pinned (the dialog shows what was announced).
                self.announced[server] = found.fingerprint or ""
            if tls is None and tls_wanted:
                tls = tls_options(server, KnownServers(), self._ask_trust)
            self.session = Session(address[0], address[1], self, tls=tls,
                                   connect=self._open_connection)
            if self.inspector is not None:
                self.session.observe(self.inspector.on_frame)
        return self.session

    def _tls_given(self, server: str) -> bool:
        """Whether connect() speaks TLS to server whatever the box says: the command line
        asked for it (--tls, --ca, --trust-fingerprint) or the server's certificate is
        pinned (the demo pins its own). The login window's box says so: it was unticked
        while the demo's connection was encrypted. Nothing is asked here: a certificate is
        only looked at once connected."""
        address = parse_address(server)
        if address is None or self.tls_for is None:
            return False
        return self.tls_for(address[0], address[1], self._ask_trust) is not None

    def _ask_trust(self, server: str, fingerprint: str) -> bool:
        return ask_trust(self.root, self.tr, server, fingerprint,
                         self.announced.get(server))

    def discover(self) -> Prober:
        return Prober(self.discover_to())

    def remember(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self.settings, key, value)
        self.settings.save(self.settings_path)
        if "font_size" in changes or "theme" in changes:
            self.apply_appearance()
        language = changes.get("language")
        if language and language != self.tr.language:
            self.set_language(language)

    def set_language(self, language: str) -> None:
        """Switch every open window to `language` now (issue 20: it took a restart). The
        presenters and windows share self.tr, so what they say from now on is in the new
        language; what they show already is re-labelled by each window's relabel() and each
        presenter's relabel() (texts it drew from data, like titles and status lines), when
        they have one. A window without relabel() keeps its texts until it is reopened."""
        self.tr.set_language(language)
        apply_language(self.root, self.tr.language)
        if self.menubar is not None:
            old, self.menubar = self.menubar, self._build_menu()
            old.destroy()
        if self.chat is not None and self.session is not None:
            self.root.title(self.tr("chat.title", user=self.session.username))
        else:
            self.root.title(self.tr("login.title") + " — " + self.tr("app.name"))
        for part in (self.login_view, self.register_view, self.chat_view, self.files_view,
                     self.audit_view, self.inspector_view, self.login_presenter,
                     self.register_presenter, self.chat, self.files, self.audit,
                     self.inspector):
            relabel = getattr(part, "relabel", None)
            if relabel is None:
                continue
            try:
                relabel()
            except tk.TclError:  # a window closed by its own button a moment ago
                log.debug("relabel of a closed window skipped", exc_info=True)

    def open_register(self) -> None:
        if self.register_view is not None and self.register_view.exists():
            self.register_view.lift()
            return
        assert self.session is not None, "the login presenter connects first"
        self.close_register()
        presenter = RegisterPresenter(self, self.session)
        self.register_view = RegisterWindow(self.root, self.tr, presenter)
        presenter.attach(self.register_view)
        self.register_presenter = presenter
        presenter.start()

    def close_register(self) -> None:
        if self.register_presenter is not None:
            self.register_presenter.close()
        if self.register_view is not None:
            self.register_view.close()
        self.register_presenter = self.register_view = None

    def registered(self, username: str) -> None:
        self.close_register()
        if self.login_presenter is not None:
            self.login_presenter.registered(username)

    def open_chat(self) -> None:
        session = self.session
        assert session is not None, "open_chat() follows a login"
        self.close_register()
        self._close_login()
        self.menubar = self._build_menu()
        self.previews = PreviewCache(session.open_file_connection,
                                     os.path.join(config_dir(), "previews"))
        self.chat = ChatPresenter(self, session, previews=self.previews)
        self.chat_view = ChatWindow(self.root, self.tr, self.chat)
        self.chat.attach(self.chat_view)
        self.apply_appearance()
        self.files = FilesPresenter(self, session, previews=self.previews)
        self.root.title(self.tr("chat.title", user=session.username))
        self.chat.switch_to("")
        self.chat.on_state(session.state, "")

    def apply_appearance(self) -> None:
        """The theme and the text size of the settings, now (issue 20: no restart)."""
        dark = self.settings.theme == "dark"
        apply_theme(self.root, dark)
        if self.chat_view is not None:
            self.chat_view.apply_theme(dark)
            self.chat_view.apply_font_size(font_size_of(self.settings.font_size))

    # -- windows --------------------------------------------------------------------------

    def show_login(self) -> None:
        self.root.title(self.tr("login.title") + " — " + self.tr("app.name"))
        self.login_presenter = LoginPresenter(self)
        self.login_view = LoginWindow(self.root, self.tr, self.login_presenter,
                                      self.settings.server, self.settings.last_login,
                                      tls=bool(self.settings.tls) or
                                      self._tls_given(self.settings.server))
        self.login_presenter.attach(self.login_view)

    def _close_login(self) -> None:
        if self.login_presenter is not None:
            self.login_presenter.close()
        if self.login_view is not None:
            self.login_view.close()
        self.login_presenter = self.login_view = None

    def _build_menu(self) -> tk.Menu:
        tr = self.tr
        menubar = tk.Menu(self.root)
        file_menu = tk.Menu(menubar, tearoff=False)
        file_menu.add_command(label=tr("menu.files"), command=self.open_files)
        file_menu.add_command(label=tr("menu.upload_file"), command=self.upload_file)
        file_menu.add_command(label=tr("menu.upload_folder"), command=self.upload_folder)
        file_menu.add_separator()
        file_menu.add_command(label=tr("menu.logout"), command=self.logout)
        file_menu.add_command(label=tr("menu.quit"), command=self.ask_quit,
                              accelerator="Ctrl+Q")
        menubar.add_cascade(label=tr("menu.file"), menu=file_menu)
        settings_menu = tk.Menu(menubar, tearoff=False)
        settings_menu.add_command(label=tr("menu.preferences"), command=self.open_settings)
        menubar.add_cascade(label=tr("menu.settings"), menu=settings_menu)
        network_menu = tk.Menu(menubar, tearoff=False)
        network_menu.add_command(label=tr("menu.inspector"), command=self.open_inspector)
        menubar.add_cascade(label=tr("menu.network"), menu=network_menu)
        if self.session is not None and self.session.is_admin:
            add_teacher_menu(menubar, tr, self.open_hand_ins, self.open_audit)
        self.root.configure(menu=menubar)
        return menubar

    def open_files(self) -> None:
        if self.files is None:
            return
        if self.files_view is not None and self.files_view.exists():
            self.files_view.lift()
            return
        self.files_view = FilesWindow(self.root, self.tr, self.files)
        self.files.attach(self.files_view)

    def show_file(self, file_id: int) -> None:
        """The files window, open, with this file selected (a picture clicked in the chat)."""
        self.open_files()
        if self.files is not None:
            self.files.reveal(file_id)

    def upload_file(self) -> None:
        paths = ask_files(self.root)
        if paths and self.files is not None:
            self.files.upload_paths(paths)
            self.open_files()

    def open_hand_ins(self) -> None:
        self.open_files()
        if self.files_view is not None:
            self.files_view.show_hand_ins_tab()

    def open_audit(self) -> None:
        """The moderation log (docs/PROTOCOL.md §11), a window of its own."""
        if self.session is None:
            return
        if self.audit_view is not None and self.audit_view.exists():
            self.audit_view.lift()
            return
        self.audit = AuditPresenter(self, self.session)
        self.audit_view = AuditWindow(self.root, self.tr, self.audit)
        self.audit.attach(self.audit_view)

    def upload_folder(self) -> None:
        folder = ask_folder(self.root, initial=self.settings.upload_folder())
        if folder and self.files is not None:
            self.files.upload_paths([folder])
            self.open_files()

    def open_settings(self) -> PreferencesWindow:
        return PreferencesWindow(self.root, self.tr, PreferencesPresenter(self))

    def _close_chat(self) -> None:
        """Close the chat and files windows and drop their presenters."""
        if self.files is not None:
            self.files.close()
        if self.previews is not None:
            self.previews.close()
            self.previews = None
        if self.files_view is not None:
            self.files_view.close()
        if self.chat_view is not None:
            self.chat_view.close()
        if self.audit_view is not None and self.audit_view.exists():
            self.audit_view.close()
        self.audit = self.audit_view = None
        if self.menubar is not None:
            self.root.configure(menu="")
            self.menubar.destroy()
        self.chat = self.chat_view = self.files = self.files_view = self.menubar = None

    def logout(self) -> None:
        if self.session is not None:
            self.session.logout()
        self._close_chat()
        self.show_login()

    def open_inspector(self) -> None:
        """Network → Inspector: the frames of every connection of the session, from now on
        (ui/presenters/inspector.py)."""
        if self.inspector_view is not None and self.inspector_view.exists():
            self.inspector_view.lift()
            return
        self.inspector = InspectorPresenter(self.tr)
        self.inspector_view = InspectorWindow(self.root, self.tr, self.inspector)
        self.inspector.attach(self.inspector_view)
        if self.session is not None:
            self.session.observe(self.inspector.on_frame)

    def close_inspector(self) -> None:
        """Unhook the inspector (a closed one costs the connections nothing) and close it."""
        if self.session is not None:
            self.session.observe(None)
        if self.inspector_view is not None:
            self.inspector_view.close()
        self.inspector = self.inspector_view = None

    def others_connected(self) -> int:
        """In the demo: how many other people chat on the server this process runs (a person
        with a chat and a file connection, or two windows, is one). 0 elsewhere."""
        if self.hosted_people is None:
            return 0
        me = self.session.username if self.session is not None else None
        return len(self.hosted_people() - {me})

    def ask_quit(self) -> None:
        """The window's close button and File → Quit: in the demo, while others are
        connected, quitting stops the chat for them too, so ask first."""
        others = self.others_connected()
        if others and not messagebox.askyesno(self.tr("demo.quit_title"),
                                              self.tr("demo.quit_ask", n=others),
                                              parent=self.root, icon="warning"):
            return
        self.quit()

    def quit(self) -> None:
        """Close the session and every window, and destroy the root. Safe to call again."""
        if self.closed:
            return
        self.closed = True
        if self._after_id is not None:
            self.root.after_cancel(self._after_id)
            self._after_id = None
        if self.session is not None:
            self.session.close()  # pending replies are answered while the windows still exist
        self.close_register()
        self.close_inspector()
        self._close_chat()
        self._close_login()
        self.session = None
        self.root.destroy()


def run(settings: ClientSettings, language: str, settings_path: Optional[str] = None,
        tls_for: Optional[TlsFor] = None, discover_to: Optional[DiscoverTo] = None,
        chaos: Optional[Chaos] = None,
        hosted_people: Optional[Callable[[], Set[str]]] = None) -> None:
    """Open the GUI and return once the user has quit. Raises NoDisplay when Tk cannot open
    a window. Everything Tk is freed before this returns, on this thread.
    hosted_people: in the demo, who chats on its server (App)."""
    try:
        root = tk.Tk()
    except tk.TclError as exc:
        raise NoDisplay(str(exc)) from None
    app = App(root, settings, language, settings_path, tls_for, discover_to=discover_to,
              chaos=chaos, hosted_people=hosted_people)
    try:
        root.mainloop()
    finally:
        app.quit()
