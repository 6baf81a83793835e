"""The streaming routes (Server-Sent Events) as one ASGI app: signoff.streaming.app."""
