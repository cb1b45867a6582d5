"""The forwarding engine: Telegram accounts, campaigns and the cycles that forward posts to groups."""
