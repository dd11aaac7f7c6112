"""Dataset builder and progressive EmoCAST trainer (run with python -m training.<tool>)."""
