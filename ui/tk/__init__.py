"""The Tk views: thin windows over the presenters (ui/presenters/), and the App that owns
them. The only part of the client that imports tkinter."""
