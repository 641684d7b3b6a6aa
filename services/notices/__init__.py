"""Notices: drafting choices, the draft's rows, the privacy gate, the review chain, publication, the archive."""
