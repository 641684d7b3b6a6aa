"""The township console: its pages (pages.py), signing in from the Mini App (app.py), inspection photos
(photos.py)."""
