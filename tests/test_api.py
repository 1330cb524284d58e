"""The public surface changes only on purpose."""
import feedpub


def test_exported_members():
    assert sorted(feedpub.__all__) == sorted([
        "BuildReport", "CacheError", "ColumnTypeError", "Config", "ConfigError", "FeedReport", "FeedpubError", "LockedError",
        "OutputConflictError", "OutputPathError", "PublishError", "RecordError", "RejectedError", "SiteError", "SourceError",
        "UsageError", "__version__", "build", "check", "load_config",
    ])
    for name in feedpub.__all__:
        assert hasattr(feedpub, name), name


def test_every_user_error_is_a_feedpub_error():
    for name in ("CacheError", "ColumnTypeError", "ConfigError", "LockedError", "OutputConflictError", "OutputPathError", "PublishError", "RecordError",
                 "RejectedError", "SiteError", "SourceError", "UsageError"):
        assert issubclass(getattr(feedpub, name), feedpub.FeedpubError)


def test_every_user_error_the_library_defines_is_exported():
    """Generated from errors.py: an error build() or check() may raise can be caught by its public name."""
    import feedpub.errors as errors
    defined = sorted(name for name, cls in vars(errors).items()
                     if isinstance(cls, type) and issubclass(cls, feedpub.FeedpubError))
    assert [name for name in defined if getattr(feedpub, name, None) is not getattr(errors, name)] == []
    assert set(defined) <= set(feedpub.__all__)


def test_a_feed_report_says_its_kind_language_and_category(tmp_path):
    from conftest import FIXTURE, NOW
    from feedpub.layout import FORMATS, feed_files
    for report in (feedpub.build(FIXTURE, tmp_path / "out", now=NOW), feedpub.build(FIXTURE, tmp_path / "out", now=NOW)):
        assert report.feeds
        for feed in report.feeds:
            assert feed.kind in {f.key for f in FORMATS}
            assert feed_files(feed.lang, feed.category)[feed.kind] == feed.path
            assert (feed.newest is None) == (feed.items == 0)


def test_library_build_returns_a_report(tmp_path):
    from conftest import FIXTURE, NOW
    report = feedpub.build(FIXTURE, tmp_path / "out", now=NOW)
    assert isinstance(report, feedpub.BuildReport)
    assert {f.path for f in report.feeds} >= {"vi/rss.xml", "vi/atom.xml", "vi/feed.json", "en/rss.xml"}
    assert all(f.changed for f in report.feeds)
    again = feedpub.build(FIXTURE, tmp_path / "out", now=NOW)
    assert again.skipped and not any(f.changed for f in again.feeds)
