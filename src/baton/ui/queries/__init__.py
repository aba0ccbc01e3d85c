"""The UI's reads: bounded, indexed queries that select what a page shows (no N+1, counts by
GROUP BY, keyset paging where lists go deep). Every change goes through `baton.core`."""
