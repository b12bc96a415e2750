"""What the Tk windows share: the colours and ttk styles, the language of Tk's own dialogs,
and the standard dialogs (open files, choose a folder, trust a certificate)."""
from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, messagebox, ttk
from typing import List, NamedTuple, Optional

from ui.i18n import Catalog
from ui.presenters.common import trust_question

ACCENT = "#4169E1"
MINE_BG = "#E3F2FD"
ERROR_FG = "#B22222"
INFO_FG = "#2F4F4F"
MUTED_FG = "#777777"
OK_FG = "#2E8B57"
# Labels that say how things went take their colour from the theme through these styles
# (apply_theme): a colour set on the label itself stays the light theme's after a switch,
# and the light theme's dark slate and brick red are all but invisible on a dark window.
ERROR_LABEL = "Error.TLabel"
INFO_LABEL = "Info.TLabel"
MUTED_LABEL = "Muted.TLabel"
OK_LABEL = "Ok.TLabel"
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
    bind_keyboard_habits(root)


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


# -- issue 20: keyboard habits, dialogs over their parent, the dark theme ---------------------

def bind_keyboard_habits(root: tk.Misc) -> None:
    """Ctrl+A selects everything in a field, as on every other desktop (Tk's own binding on
    X11 moves to the start of the line instead)."""
    # Through Tcl, by the widget's path name: in Tk's own dialogs (the file choosers) the
    # widget has no Python object, and event.widget is only that name.
    def select_all_entry(event: tk.Event) -> str:
        root.tk.call(str(event.widget), "selection", "range", 0, "end")
        root.tk.call(str(event.widget), "icursor", "end")
        return "break"

    def select_all_text(event: tk.Event) -> str:
        root.tk.call(str(event.widget), "tag", "add", "sel", "1.0", "end-1c")
        return "break"
    for cls in ("TEntry", "Entry", "TCombobox", "TSpinbox"):
        for key in ("<Control-a>", "<Control-A>"):
            root.bind_class(cls, key, select_all_entry)
    for key in ("<Control-a>", "<Control-A>"):
        root.bind_class("Text", key, select_all_text)


def place_over(window: tk.Toplevel, parent: tk.Misc) -> None:
    """Open a dialog centred over the window it belongs to (not at a corner of the
    screen, not behind another window), kept on the screen."""
    top = parent.winfo_toplevel()
    window.withdraw()  # measured before it is first shown: it never flashes at a corner
    window.update_idletasks()
    width, height = window.winfo_reqwidth(), window.winfo_reqheight()
    x = top.winfo_rootx() + (top.winfo_width() - width) // 2
    y = top.winfo_rooty() + (top.winfo_height() - height) // 3
    x = max(0, min(x, window.winfo_screenwidth() - width))
    y = max(0, min(y, window.winfo_screenheight() - height))
    window.geometry("+%d+%d" % (x, y))
    window.deiconify()
    window.lift(top)


class Palette(NamedTuple):
    """The colours of a theme (Preferences → Theme)."""

    bg: str  # the window
    fg: str  # text
    text_bg: str  # the messages, the lists
    input_bg: str
    locked_bg: str  # the input while it is closed
    meta_fg: str  # times, date dividers
    who_fg: str  # a sender's name
    mine_bg: str  # my messages
    private_fg: str  # private marks, the recipient bar in private mode
    private_bg: str
    system_fg: str  # notices
    muted_fg: str
    info_fg: str
    error_fg: str
    ok_fg: str
    code_bg: str
    link_fg: str
    mention_bg: str  # @me


LIGHT = Palette(bg="#DCDAD5", fg="#000000", text_bg="#FFFFFF", input_bg="#FFFFFF",
                locked_bg="#F2F2F2", meta_fg="#888888", who_fg=ACCENT, mine_bg=MINE_BG,
                private_fg="#8B008B", private_bg="#F3E5F5", system_fg="#708090",
                muted_fg=MUTED_FG, info_fg=INFO_FG, error_fg=ERROR_FG, ok_fg=OK_FG,
                code_bg="#F2F2F2", link_fg="#1A0DAB",
                mention_bg="#FFF3B0")
DARK = Palette(bg="#2B2B2B", fg="#E6E6E6", text_bg="#1E1E1E", input_bg="#262626",
               locked_bg="#3A3A3A", meta_fg="#9A9A9A", who_fg="#8AB4F8", mine_bg="#1F3347",
               private_fg="#E1A6F0", private_bg="#4A2A52", system_fg="#A0AAB4",
               muted_fg="#A0A0A0", info_fg="#B0C4C4", error_fg="#FF8A80", ok_fg="#81C995",
               code_bg="#2D2D2D", link_fg="#8AB4F8",
               mention_bg="#5C4B00")


def palette(dark: bool) -> Palette:
    return DARK if dark else LIGHT


def current_palette(widget: tk.Misc) -> Palette:
    """The palette apply_theme last gave widget's root (it paints the root with its bg):
    for the colours no style carries, a Treeview's tags."""
    return palette(str(widget.winfo_toplevel().nametowidget(".").cget("background"))
                   == DARK.bg)


def apply_theme(root: tk.Misc, dark: bool) -> Palette:
    """ttk's colours for the theme (every window's frames, labels, buttons and fields);
    the Text and Listbox widgets are coloured by their windows from the palette."""
    p = palette(dark)
    style = ttk.Style(root)
    style.configure(".", background=p.bg, foreground=p.fg, fieldbackground=p.input_bg,
                    insertcolor=p.fg)
    for name in ("TFrame", "TLabel", "TCheckbutton", "TRadiobutton", "TLabelframe",
                 "TLabelframe.Label", "TPanedwindow", "TNotebook"):
        style.configure(name, background=p.bg, foreground=p.fg)
    style.configure("TButton", background=p.bg if not dark else "#3C3C3C", foreground=p.fg)
    style.configure("TEntry", fieldbackground=p.input_bg, foreground=p.fg)
    style.configure("Treeview", background=p.text_bg, fieldbackground=p.text_bg,
                    foreground=p.fg)
    for name, colour in ((ERROR_LABEL, p.error_fg), (INFO_LABEL, p.info_fg),
                         (MUTED_LABEL, p.muted_fg), (OK_LABEL, p.ok_fg)):
        style.configure(name, foreground=colour)
    style.map("TCheckbutton", background=[("active", p.bg)])
    style.map("TRadiobutton", background=[("active", p.bg)])
    style.map("TButton", background=[("active", "#BEBAB3" if not dark else "#505050")])
    # The login form's card stays white in both themes (so does the canvas around it): its
    # words stay dark, or a dark theme's light text is all but invisible on it.
    for name in ("Card.TLabel", "Card.TCheckbutton"):
        style.configure(name, background="white", foreground=LIGHT.fg)
    style.map("Card.TCheckbutton", background=[("active", "white")])
    root.configure(background=p.bg)
    _colour_menus(root, p, dark)
    return p


def _colour_menus(root: tk.Misc, p: Palette, dark: bool) -> None:
    """tk.Menu is no ttk widget, so the styles above miss it: menus made from now on take
    their colours from the option database, the menus open already are recoloured (Tk
    passes a menu's colours on to its clones in the menu bar)."""
    colours = {"background": p.bg, "foreground": p.fg,
               "activeBackground": "#505050" if dark else "#BEBAB3",
               "activeForeground": p.fg, "disabledForeground": p.muted_fg,
               "selectColor": p.fg}
    for name, colour in colours.items():
        root.option_add("*Menu." + name, colour)
    widgets = [root]
    while widgets:
        widget = widgets.pop()
        if isinstance(widget, tk.Menu):
            widget.configure(**{name.lower(): colour for name, colour in colours.items()})
        widgets.extend(widget.winfo_children())
