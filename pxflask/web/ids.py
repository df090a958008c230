"""Row ids in URLs: the converter the views share."""

MAX_ID = 2**31 - 1
"""The largest id of a database row (a signed 32-bit INTEGER in every backend)."""
ID = f"int(min=1, max={MAX_ID})"
"""URL converter of a row id: larger numbers answer 404 before reaching the DB."""
