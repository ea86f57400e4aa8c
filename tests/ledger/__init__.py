"""Tests of the usage ledger, each run on SQLite and on PostgreSQL."""
