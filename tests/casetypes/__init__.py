"""Tests of declarative case types (casework.casetypes)."""
