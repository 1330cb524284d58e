"""The README's PostgreSQL example works as written: its schema, view, role, grants and indexes run
verbatim in a database named cms, and feedpub reads the view through the role it creates."""
from __future__ import annotations

import re
import tomllib

import pytest

import dbhelp
from dbhelp import VN, sample_records, utc

from feedpub.database import open_source, parse_source
from feedpub.errors import SourceError
from dbhelp import validate_record

README = dbhelp.ROOT / "README.md"
NOW = utc(2026, 11, 29, 12)


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Reading from a database")
    return text[start:text.index("\n## ", start + 1)]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", section(), re.S)


def schema_and_view() -> tuple[str, str]:
    """The example's tables, and its view, role, grants and indexes (its other blocks create the
    database and add sample rows: test_init.py runs them all through psql)."""
    found = blocks("sql")
    return (next(b for b in found if "CREATE TABLE authors" in b), next(b for b in found if "CREATE VIEW" in b))


class Cms(dbhelp.PgDatabase):
    """The database the README names, cms; its role `feeds` goes with it."""

    def __init__(self, server):
        super().__init__(server, name="cms")

    def drop(self) -> None:
        super().drop()
        import sqlalchemy as sa
        root = sa.create_engine(self.server.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with root.connect() as conn:
            conn.exec_driver_sql("DROP ROLE IF EXISTS feeds")
        root.dispose()


@pytest.fixture
def cms(postgres_server):
    database = Cms(postgres_server)
    yield database
    database.drop()


def fill(cms) -> list[dict]:
    """The sample site's articles as CMS rows: authors, categories through the join table, story ids."""
    import sqlalchemy as sa
    records = sample_records()
    authors, categories, stories = {}, {}, {}
    with cms.admin.begin() as conn:
        for number, record in enumerate(records, 1):
            author = record.get("author")
            name, email = (author.get("name"), author.get("email")) if isinstance(author, dict) else (author, None)
            if name and (name, email) not in authors:
                authors[name, email] = conn.execute(sa.text("INSERT INTO authors (display_name, email) VALUES "
                                                            "(:n, :e) RETURNING id"), {"n": name, "e": email}).scalar()
            key = record.get("translation_key")
            story = stories.setdefault(key, len(stories) + 100) if key else None
            image = record.get("image") or {}
            published = dbhelp.aware(record["published"])
            article = conn.execute(sa.text(
                "INSERT INTO articles (id, lang, slug, title, lead, body, author_id, image_path, image_caption, "
                "story_id, status, published_at, updated_at) VALUES (:id, :lang, :slug, :title, :lead, :body, "
                ":author, :image, :caption, :story, :status, :published, :updated) RETURNING id"),
                {"id": 1000 + number, "lang": record["lang"], "slug": record["id"], "title": record["title"],
                 "lead": record.get("summary"), "body": record.get("content"), "author": authors.get((name, email)),
                 "image": image.get("url"), "caption": image.get("caption"), "story": story,
                 "status": "draft" if record.get("draft") else "published", "published": published,
                 "updated": dbhelp.aware(record.get("updated"))}).scalar()
            for position, category in enumerate(record.get("categories") or []):
                if category not in categories:
                    categories[category] = conn.execute(sa.text(
                        "INSERT INTO categories (name) VALUES (:n) RETURNING id"), {"n": category}).scalar()
                conn.execute(sa.text("INSERT INTO article_categories VALUES (:a, :c, :p)"),
                             {"a": article, "c": categories[category], "p": position})
    return records


def test_the_readme_example_runs_as_written(cms, monkeypatch):
    schema, feedpub_part = schema_and_view()
    cms.execute(schema)
    records = fill(cms)
    cms.execute(feedpub_part)

    toml = next(b for b in blocks("toml") if "url_env" in b and "#" not in b)
    source = tomllib.loads(toml)["source"]
    cron = blocks("cron")[0]
    written = re.search(r"FEEDPUB_DATABASE_URL=(\S+)", cron).group(1)
    assert written == "postgresql://feeds:change%20me@db.internal/cms"
    monkeypatch.setenv("FEEDPUB_DATABASE_URL", written.replace("db.internal", f"127.0.0.1:{cms.server.port}"))

    with open_source(parse_source(source, dbhelp.ROOT), tz=VN) as src:
        assert src.mode == "sql" and src.label == "feed_articles"
        rows = list(src.rows())
        selection = src.select(["vi", "en"], 3, NOW)
        versions = src.translations(selection.translation_keys(), NOW)
        loaded = src.load(selection.picks())
        assert src.next_due(NOW) == dbhelp.aware("2031-01-01T07:00:00+07:00")
        with pytest.raises(Exception) as info:             # the role reads the view, not the tables behind it
            src.query.rows("counting", "SELECT count(*) FROM articles")
        assert "permission denied" in str(info.value)

    assert len(rows) == len(records)
    viewed = [r.record for r in rows]
    assert dbhelp.chosen(selection) == dbhelp.reference(viewed, need=3, now=NOW)
    by_slug = {r["id"]: r for r in records}
    for rec in loaded.values():
        article, errors, _ = validate_record(rec.record, rec.source, rec.line, languages=dbhelp.LANGUAGES,
                                             base_url=dbhelp.BASE_URL, tz=VN)
        assert errors == [], errors
        original = by_slug[article.url.rsplit("/", 1)[1][:-len(".html")]]
        assert article.title == original["title"] and article.categories == tuple(original.get("categories") or ())
        assert article.published == dbhelp.aware(original["published"])
        if isinstance(original.get("author"), dict):
            assert article.author.email == original["author"].get("email")
        assert rec.location == f"feed_articles:{article.id}"
    assert all(len(v) >= 1 for v in versions.values())
    assert any(len(v) == 2 for v in versions.values())              # the stories told in both languages


def test_the_readme_role_cannot_reach_past_the_view(cms):
    schema, feedpub_part = schema_and_view()
    cms.execute(schema)
    cms.execute(feedpub_part)
    url = f"postgresql://feeds:change%20me@127.0.0.1:{cms.server.port}/cms"
    with pytest.raises(SourceError) as info:
        open_source(parse_source({"url": url, "table": "articles"}, dbhelp.ROOT), tz=VN)
    assert "permission denied for table articles" in str(info.value)
    assert "change" not in str(info.value).replace("feeds:***@", "")
