"""Use cases: typed results for the CLI and the web (the only API they call)."""
