"""The supervisor dashboard: figures kept fast by a per-day summary, drawn as server-side SVG.
Nothing outside the area uses it."""
