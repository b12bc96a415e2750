"""The register window: a form whose hints follow the typing, and the send-code button."""
from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
import weakref
from tkinter import ttk
from typing import Dict, List, Optional, Tuple

from ui.i18n import LANGUAGES, Catalog
from ui.presenters.register import RegisterPresenter
from ui.tk.common import ERROR_LABEL, INFO_LABEL, MUTED_LABEL, OK_LABEL

FORM_ROWS = 3  # lines per field: its name, its box, its hint
ENTRY_CHARS = 26
HINT_WRAP_PX = 380  # about a box and Send code side by side


def send_button_chars(master: tk.Misc) -> int:
    """A width (in average characters) for Send code that fits each of its labels in every
    language: the window widened when the countdown began, and narrowed when it ended."""
    font = tkfont.Font(root=master, name="TkDefaultFont", exists=True)
    char_px = max(1, font.measure("0"))
    widest_px = max(font.measure(Catalog(language)(key, n=88))
                    for language in LANGUAGES
                    for key in ("register.send_code", "register.resend_in"))
    return -(-widest_px // char_px) + 1


class RegisterWindow:
    """Implements ui.presenters.register.RegisterView in a window of its own. Leaving it
    ("back", or the window manager's close button) is the presenter's cancel(); the App then
    calls close()."""

    def __init__(self, master: tk.Misc, tr: Catalog, presenter: RegisterPresenter) -> None:
        self.tr = tr
        self.presenter = weakref.proxy(presenter)
        self.window = window = tk.Toplevel(master)
        window.title(tr("register.title"))
        window.resizable(False, False)
        window.protocol("WM_DELETE_WINDOW", lambda: self.presenter.cancel())
        body = ttk.Frame(window, padding=16)
        body.pack(fill="both", expand=True)
        self.vars: Dict[str, tk.StringVar] = {}
        self.hints: Dict[str, ttk.Label] = {}
        self.rows: Dict[str, List[tk.Widget]] = {}
        self.entries: Dict[str, ttk.Entry] = {}
        self.hint_keys: Dict[str, str] = {}  # the catalog key each hint shows (relabel)
        self.labels: List[Tuple[ttk.Label, str]] = []
        # Variable traces are Tcl commands that outlive the widgets: close() removes them.
        self._traces: List[Tuple[tk.StringVar, str]] = []
        labels = [("username", "register.username", ""), ("password", "register.password", "•"),
                  ("confirm", "register.confirm", "•"), ("phone", "register.phone", ""),
                  ("code", "register.code", ""), ("email", "register.email", "")]
        # Each field is three lines (its name, the box, the hint under it) so the window fits
        # a 480 px screen: with the hints in a column of their own it was 860 px wide. Only
        # the phone's box shares its line, with Send code.
        body.columnconfigure(0, weight=1)
        for index, (name, key, show) in enumerate(labels):
            row = FORM_ROWS * index
            var = tk.StringVar(window)
            self.vars[name] = var
            label = ttk.Label(body, text=tr(key))
            label.grid(row=row, column=0, columnspan=2, sticky="w", pady=(6 if index else 0, 0))
            self.labels.append((label, key))
            entry = ttk.Entry(body, textvariable=var, width=ENTRY_CHARS, show=show)
            entry.grid(row=row + 1, column=0, columnspan=1 if name == "phone" else 2,
                       sticky="ew")
            self.entries[name] = entry
            hint = ttk.Label(body, text="", style=MUTED_LABEL, wraplength=HINT_WRAP_PX)
            hint.grid(row=row + 2, column=0, columnspan=2, sticky="w")
            self.hints[name] = hint
            trace = var.trace_add("write", lambda *_, n=name: self.presenter.check(n))
            self._traces.append((var, trace))
            self.rows[name] = [label, entry, hint]
        self.send_button = ttk.Button(body, text=tr("register.send_code"),
                                      width=send_button_chars(window),
                                      command=lambda: self.presenter.send_code())
        self.send_button.grid(row=FORM_ROWS * 3 + 1, column=1, padx=(6, 0), sticky="e")
        # Tab goes from the phone to Send code, then to the code (Tab follows the stacking
        # order, and the button was made after every field).
        self.send_button.lift(self.entries["phone"])
        self.rows["code"].append(self.send_button)
        last = FORM_ROWS * len(labels)
        buttons = ttk.Frame(body)
        buttons.grid(row=last, column=0, columnspan=2, pady=(12, 0))
        self.submit_button = ttk.Button(buttons, text=tr("register.submit"),
                                        style="Accent.TButton",
                                        command=lambda: self.presenter.submit())
        self.submit_button.pack(side="left", padx=4)
        self.back_button = ttk.Button(buttons, text=tr("register.back"),
                                      command=lambda: self.presenter.cancel())
        self.back_button.pack(side="left")
        self.message = ttk.Label(body, text="", wraplength=HINT_WRAP_PX)
        self.message.grid(row=last + 1, column=0, columnspan=2, pady=(8, 0))
        self.entries["username"].focus_set()
        window.bind("<Return>", lambda e: self.presenter.submit())
        # Enter after the phone number asks for the code (the next thing to do), where
        # submitting would stop, unexplained, at the empty code field.
        self.entries["phone"].bind("<Return>", lambda e: self._send_code_from_phone())

    def _send_code_from_phone(self) -> str:
        if str(self.send_button.cget("state")) == "normal" and self.send_button.winfo_ismapped():
            self.presenter.send_code()
        else:  # a code was sent already, or this server sends none: Enter registers
            self.presenter.submit()
        return "break"

    def exists(self) -> bool:
        return bool(self.window.winfo_exists())

    def lift(self) -> None:
        self.window.lift()

    def relabel(self) -> None:
        """The language changed (App.set_language): every fixed text again, from tr."""
        tr = self.tr
        self.window.title(tr("register.title"))
        for label, key in self.labels:
            label.configure(text=tr(key))
        for field, key in self.hint_keys.items():
            self.hints[field].configure(text=tr(key))
        if str(self.send_button.cget("state")) == "normal":  # else the countdown redraws it
            self.send_button.configure(text=tr("register.send_code"))
        self.submit_button.configure(text=tr("register.submit"))
        self.back_button.configure(text=tr("register.back"))

    def close(self) -> None:
        for var, trace in self._traces:
            var.trace_remove("write", trace)
        self._traces.clear()
        self.window.destroy()

    # -- RegisterView ---------------------------------------------------------------------

    def values(self) -> Dict[str, str]:
        return {name: var.get() for name, var in self.vars.items()}

    def set_hint(self, field: str, key: str, ok: Optional[bool]) -> None:
        style = MUTED_LABEL if ok is None else (OK_LABEL if ok else ERROR_LABEL)
        self.hint_keys[field] = key
        self.hints[field].configure(text=self.tr(key), style=style)

    def set_code_visible(self, visible: bool) -> None:
        for widget in self.rows["code"]:
            if visible:
                widget.grid()
            else:
                widget.grid_remove()
        # Without Send code beside it the phone's box is as wide as the others.
        self.entries["phone"].grid_configure(columnspan=1 if visible else 2)

    def set_send_code(self, enabled: bool, text: str) -> None:
        self.send_button.configure(state="normal" if enabled else "disabled", text=text)

    def set_busy(self, busy: bool) -> None:
        self.submit_button.configure(state="disabled" if busy else "normal")

    def show_error(self, text: str) -> None:
        self.message.configure(text=text, style=ERROR_LABEL)

    def show_info(self, text: str) -> None:
        self.message.configure(text=text, style=INFO_LABEL)
