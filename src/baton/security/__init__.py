"""Access control: who is calling (credentials), what they may do (roles), and the record
of what they did (audit)."""
