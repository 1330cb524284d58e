"""The version of feedpub: one place, read by the package, the build backend and the cache."""
__version__ = "0.1.0"
