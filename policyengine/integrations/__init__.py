"""Adapters that run the gate inside data frameworks; the top layer, beside the CLI.

Each one maps the same Arrow batch function (:class:`policyengine.scan.arrow.PolicyColumn`, built by
:func:`policyengine.api.policy_column`) over the framework's partitions.
"""
