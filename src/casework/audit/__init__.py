"""Tamper-evident audit trail: a SHA-256 hash chain over canonical JSON."""
