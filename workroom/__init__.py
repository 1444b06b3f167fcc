"""Workroom: a real-time collaboration server for freelance marketplace workrooms."""

__version__ = "0.1.0"
