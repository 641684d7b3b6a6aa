"""Callback data factories and keyboards, one module per part of the domain. Callback data carries ids only."""
