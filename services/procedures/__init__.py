"""Procedures behind the notices: matters recorded step by step through 四议两公开 (catalogs: Procedure)."""
