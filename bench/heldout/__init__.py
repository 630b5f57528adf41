"""Held-out evaluation sets of the check engines, one module per engine (see each one's docstring)."""
