"""SQLite storage: schema migrations, the database handle, repositories and log files."""
