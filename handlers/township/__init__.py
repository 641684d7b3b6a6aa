"""The township's desk in Telegram: /report, /console, urging and rectification, inspection photos."""
