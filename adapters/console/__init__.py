"""The console adapter: text in, text out. Also the harness most tests drive."""
