"""Presentation: plain view-models built from rules and decisions, rendered through Jinja templates.

Templates hold no logic; everything they show is computed here first.
"""
