"""sockrepl's benchmarks (run them with `python benchmarks/run.py`); see RESULTS.md."""
