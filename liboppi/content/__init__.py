"""Course content: Markdown modules with front matter, loading, rendering and checking.

Pure domain code: no Flask, no database.
"""
