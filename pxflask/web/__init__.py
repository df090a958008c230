"""Flask glue: Perfex and Xero handles, request limits, headers, error pages."""
