"""The record-level gate over JSON Lines and Parquet shards, in Arrow batches.

    formats ─ jsonl / parquet ──> Batch ──judge (gate per distinct provenance tuple)──> Judged
                                                            │                           │
                                   tracing (fingerprints) ──┤        writers (allowed, blocked)
                    identify (self-identification) ─────────┘        summary (Tally → ScanReport)

``runner`` ties these together for files, in one process or several; ``arrow`` offers the same
batch function to Dask, Ray and Spark. This package imports the rules and the evaluator, never the
ledger: content fingerprints arrive as a plain callable (``tracing.Tracer``).
"""
