"""Access control's rules, with no database behind them: what each role may do (roles) and
the UI's signed session cookies (sessions). Checking a caller's credentials needs the
database and lives in `core.credentials`."""
