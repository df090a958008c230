"""Tests of the Xero sandbox (pxflask/sandbox)."""
