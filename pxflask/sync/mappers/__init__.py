"""Mapper code shared by the entities: money and text helpers, line taxes, tax keys,
accounts (each entity's own mapper is pxflask/sync/entities/<name>/mapper.py)."""
