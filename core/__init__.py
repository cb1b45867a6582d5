"""The neutral layer every package shares: errors, configuration, ports, outcome kinds, states, references."""
