"""The session pool: intake of uploaded session files, API pairs, assignment to customers, health states
and the folders that mirror them. The one service layer the control bot, the CLI and the engine share."""
