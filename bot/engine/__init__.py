"""The engine: one request in, one reply out (parsing, identity, context, registry, reply cache).
May import: the shared vocabulary, domain, views, delivery."""
