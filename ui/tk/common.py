"""What the Tk windows share: the colours and ttk styles, the language of Tk's own dialogs,
and the standard dialogs (open files, choose a folder, trust a certificate)."""
from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, messagebox, ttk
from typing import List, Optional

from ui.i18n import Catalog
from ui.presenters.common import trust_question

ACCENT = "#4169E1"
MINE_BG = "#E3F2FD"
ERROR_FG = "#B22222"
INFO_FG = "#2F4F4F"
MUTED_FG = "#777777"
BADGE_BG = "#2E7D32"  # the teacher's role badge


def apply_language(root: tk.Tk, language: str) -> None:
    """Tk's own dialogs (Yes/No, file choosers) in the same language as ours."""
    try:
        root.tk.call("::msgcat::mclocale", "zh_cn" if language == "zh" else "en")
    except tk.TclError:  # an old Tk without msgcat: its dialogs stay in English
        pass


def apply_style(root: tk.Tk) -> None:
    style = ttk.Style(root)
    if "clam" in style.theme_names():
        style.theme_use("clam")
    style.configure("Accent.TButton", foreground="white", background=ACCENT)
    style.map("Accent.TButton", background=[("active", "#27408B"), ("disabled", "#A0A0C0")])
    style.configure("Horizontal.TProgressbar", background=ACCENT, troughcolor="#E8E8EE")
    style.configure("Card.TFrame", background="white")
    style.configure("Card.TLabel", background="white")


def ask_files(parent: tk.Misc) -> List[str]:
    return list(filedialog.askopenfilenames(parent=parent) or [])


def ask_folder(parent: tk.Misc, title: str = "", initial: str = "") -> str:
    options = {"title": title} if title else {}
    if initial:
        options["initialdir"] = initial
    return filedialog.askdirectory(parent=parent, **options) or ""


def ask_trust(parent: tk.Misc, tr: Catalog, server: str, fingerprint: str,
              announced: Optional[str] = None) -> bool:
    """Trust on first use: show the certificate's fingerprint (and the one discovery
    announced, if any) and ask."""
    return messagebox.askyesno(tr("tls.title"),
                               trust_question(tr, server, fingerprint, announced),
                               parent=parent)
