"""Backups of a data dir and its sessions, and restoring one (issue 20 part B; ``docs/BACKUP.md``).

``archive``: one 0600 ``.tar.gz`` holding the database (SQLite's online backup API, consistent while the
service runs), the session files and the kept media, with a manifest of each file's sha256; a restore
checks everything before it writes anything where it belongs. ``daily``: the service's own daily
backups and their pruning.
"""
