"""The APScheduler wiring and the due-step: load what is due, claim it (step), build its posts.
May import: the shared vocabulary, domain, views, delivery."""
