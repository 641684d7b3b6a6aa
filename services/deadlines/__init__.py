"""Deadlines: what a village owes and when, the daily nag scan, compliance reports, housekeeping."""
