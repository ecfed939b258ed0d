"""The drift flow: the weekly ``drift`` pipeline and its step bodies."""
