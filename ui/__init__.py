"""User interfaces over the same Tk-free session: the Tk desktop client and the terminal client."""
