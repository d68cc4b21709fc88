"""Controllers: asyncio tasks that watch the API server and converge the world to it."""
