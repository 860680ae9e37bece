"""nmbot: explains 8x8 Number Masking error codes, in Slack and in the terminal."""

__version__ = "0.1.0"
