"""The stand-in programs are run by tests/test_recipes.py, never collected as tests (one is named test_*.py)."""

collect_ignore_glob = ["*"]
