"""Storage: one Store API over SQLite (the embedded default) and MySQL (PyMySQL).

    store = open_store("sqlite:///chatroom-data/chatroom.db")
    store = open_store("mysql://chat:secret@127.0.0.1:3306/chatroom")
"""
from __future__ import annotations

from db.errors import PhoneTaken, StoreError, StoreUnavailable, UsernameTaken
from db.store import Store, open_store

__all__ = ["Store", "open_store", "StoreError", "StoreUnavailable", "UsernameTaken",
           "PhoneTaken"]
