"""What status, reports, charts and notices say: read models (reading only) and message builders.
May import: the shared vocabulary, domain."""
