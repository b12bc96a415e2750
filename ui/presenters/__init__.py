"""What each window does, without tkinter: one module per window (login, register, chat,
files, preferences), each with the view Protocol its presenter draws through.

A presenter is driven by its view (what the user did) and by the Session (what the server
said), and draws by calling its view's methods. The Tk windows in ui/tk/ implement the views;
tests/test_presenters.py drives the presenters with fake ones, no display needed. Everything
here runs on the one GUI thread.
"""
