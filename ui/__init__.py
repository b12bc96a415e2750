"""The clients, in three rooms:

    ui/ (this folder)   the Tk-free core: session.py (the connections to one server),
                        transfers.py, pins.py, settings.py, i18n.py
    ui/presenters/      what each window does, without tkinter
    ui/tk/              the Tk windows and the App: the only part that imports tkinter
    ui/cli.py           the terminal client, on the same core
"""
