"""Perfex CRM's database: schema, reads, writes, numbering, demo data (no Flask)."""
