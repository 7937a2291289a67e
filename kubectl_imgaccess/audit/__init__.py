"""Snapshot -> report: the rules, suppression, verdicts. Pure."""
