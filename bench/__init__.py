"""Benchmarks of Brankas against the standard tools (``make bench``, ``python -m bench``).

Every measurement runs the real ``brankas`` command in a subprocess against a fresh data
folder set up through the CLI, and the standard tool on the same files in the same run.
Benchmarks are not tests: nothing here asserts a time; the table states each target and
whether it was met.
"""
