"""cxops: an open engine for marketplace seller performance programs."""

__version__ = "0.1.0"
