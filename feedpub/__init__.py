"""feedpub: per-language RSS 2.0, Atom 1.0 and JSON feeds from a news site's article records.

    import feedpub
    report = feedpub.build("data", "public")
"""
from .config import Config, load_config
from .errors import (CacheError, ColumnTypeError, ConfigError, FeedpubError, LockedError, OutputConflictError,
                     OutputPathError, PublishError, RecordError, RejectedError, SiteError, SourceError, UsageError)
from .pipeline import BuildReport, FeedReport, build, check
from .version import __version__


__all__ = [
    "BuildReport", "CacheError", "ColumnTypeError", "Config", "ConfigError", "FeedReport", "FeedpubError", "LockedError",
    "OutputConflictError", "OutputPathError", "PublishError", "RecordError", "RejectedError", "SiteError", "SourceError",
    "UsageError",
    "__version__", "build", "check", "load_config",
]
