"""The public surface changes only on purpose."""
import feedpub


def test_exported_members():
    assert sorted(feedpub.__all__) == sorted([
        "BuildReport", "CacheError", "Config", "ConfigError", "FeedReport", "FeedpubError", "LockedError",
        "OutputConflictError", "PublishError", "RecordError", "RejectedError", "SiteError", "__version__", "build", "check", "load_config",
    ])
    for name in feedpub.__all__:
        assert hasattr(feedpub, name), name


def test_every_user_error_is_a_feedpub_error():
    for name in ("CacheError", "ConfigError", "LockedError", "OutputConflictError", "PublishError", "RecordError",
                 "RejectedError", "SiteError"):
        assert issubclass(getattr(feedpub, name), feedpub.FeedpubError)


def test_library_build_returns_a_report(tmp_path):
    from conftest import FIXTURE, NOW
    report = feedpub.build(FIXTURE, tmp_path / "out", now=NOW)
    assert isinstance(report, feedpub.BuildReport)
    assert {f.path for f in report.feeds} >= {"vi/rss.xml", "vi/atom.xml", "vi/feed.json", "en/rss.xml"}
    assert all(f.changed for f in report.feeds)
    again = feedpub.build(FIXTURE, tmp_path / "out", now=NOW)
    assert again.skipped and not any(f.changed for f in again.feeds)
