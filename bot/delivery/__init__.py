"""The outbox, its vocabulary, the workers that post it, pacing, recording each result.
May import: the shared vocabulary, domain, views."""
