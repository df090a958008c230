"""One folder per synced entity: its unit (`__init__.py`), step and mapper."""
