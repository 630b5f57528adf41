"""Automated checks of a participant's captures: MRZ, face match, liveness,
image quality, and the system recommendation built from them.

Plain Python engines with no Django in them; ``workflows.tasks`` runs them on
stored evidence. Importing this package loads no model: each engine loads
its own on first use and keeps it for the process.
"""
