"""Adapters that run the gate inside data frameworks; the top layer, beside the CLI.

``tasks`` holds what one task does, framework-neutral: one shard file scanned into part files, or one
Arrow partition judged and counted. ``dask`` runs those tasks on a Dask cluster (``scan_files``,
``scan_dataframe``) and is the only module that imports Dask. Ray Data and Spark take the same Arrow
batch function (:func:`policyengine.api.policy_column`) directly; ``docs/scale.md`` shows how.
"""
