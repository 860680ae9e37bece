"""What each `nmbot` command does, a module per command group; `main.run` imports only the one it runs.
Output formats are part of the CLI contract."""
