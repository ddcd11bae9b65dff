"""Looking things up: a chat account's page with its whole timeline, and the global search.
Nothing outside the area uses it."""
