"""The Slack app: Bolt listeners over the engine, rendered by `nmbot.cards`."""
