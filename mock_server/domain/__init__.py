"""The fake's domain: plain Python, no web framework (a test enforces it)."""
