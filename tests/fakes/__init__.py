"""Local stand-ins for platform HTTP APIs (real servers on 127.0.0.1, random ports)."""
