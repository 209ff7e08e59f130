"""Liboppi's benchmarks: ``python -m bench [--only NAME]`` (``make bench [ONLY=NAME]``).

Every figure is measured together with its floor, in the same run on the same machine, and
reported as a ratio; see ``bench/runner.py`` for the runner and README.md "Performance".
"""
