"""Helpers behind the Gradio app (app.py): event handlers, the compare grid video, the intensity plot.

Kept inside the package so they can be unit-tested without a browser; nothing here runs at import.
"""
