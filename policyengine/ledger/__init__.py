"""The usage ledger: an append-only, tamper-evident record of how model outputs flow into datasets,
training runs and models (DESIGN.md §6). Knows nothing of rules; turns rows into `facts`.
"""
