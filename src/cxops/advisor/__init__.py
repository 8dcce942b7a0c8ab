"""Seller tools (DESIGN.md "Package layout": ``advisor/``): what a seller can do to stay in the program,
computed from the seller's own figures with the real policy and lifecycle code."""
