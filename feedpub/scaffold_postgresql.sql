-- The README's PostgreSQL worked example, as feedpub init --source postgresql writes it.
-- Run it as PostgreSQL's superuser: psql -v ON_ERROR_STOP=1 -f postgresql.sql

CREATE DATABASE cms;
\connect cms

CREATE TABLE authors (
    id            serial PRIMARY KEY,
    display_name  text NOT NULL,
    email         text
);
CREATE TABLE categories (
    id    serial PRIMARY KEY,
    name  text NOT NULL UNIQUE
);
CREATE TABLE articles (
    id            bigserial PRIMARY KEY,
    lang          text NOT NULL,
    slug          text NOT NULL,
    title         text NOT NULL,
    lead          text,
    body          text,
    author_id     int REFERENCES authors,
    image_path    text,
    image_caption text,
    story_id      bigint,                       -- shared by the language versions of one story
    status        text NOT NULL DEFAULT 'draft',   -- draft, published, archived
    published_at  timestamptz,
    updated_at    timestamptz
);
CREATE TABLE article_categories (
    article_id   bigint REFERENCES articles ON DELETE CASCADE,
    category_id  int REFERENCES categories,
    position     int NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, category_id)
);

CREATE VIEW feed_articles AS
SELECT a.id,
       a.lang,
       a.title,
       '/' || a.lang || '/' || a.slug || '.html'                      AS url,
       a.published_at                                                 AS published,
       a.updated_at                                                   AS updated,
       a.lead                                                         AS summary,
       a.body                                                         AS content,
       CASE WHEN au.id IS NOT NULL
            THEN jsonb_strip_nulls(jsonb_build_object('name', au.display_name, 'email', au.email))
       END                                                            AS author,
       ARRAY(SELECT c.name FROM article_categories ac JOIN categories c ON c.id = ac.category_id
             WHERE ac.article_id = a.id ORDER BY ac.position, c.name) AS categories,
       CASE WHEN a.image_path IS NOT NULL
            THEN jsonb_strip_nulls(jsonb_build_object('url', a.image_path, 'caption', a.image_caption))
       END                                                            AS image,
       a.story_id                                                     AS translation_key,
       a.status <> 'published'                                        AS draft
FROM articles a
LEFT JOIN authors au ON au.id = a.author_id;

CREATE ROLE feeds LOGIN PASSWORD 'change me';
GRANT CONNECT ON DATABASE cms TO feeds;
GRANT USAGE ON SCHEMA public TO feeds;
GRANT SELECT ON feed_articles TO feeds;       -- the view only: not the tables behind it

-- feedpub's queries ask the view for "draft IS NOT TRUE": the partial index says the same of the
-- column behind it, so PostgreSQL can use it through the view
CREATE INDEX articles_feed ON articles (lang, published_at DESC) WHERE (status <> 'published') IS NOT TRUE;
CREATE INDEX articles_story ON articles (story_id);
CREATE INDEX article_categories_category ON article_categories (category_id, article_id);

INSERT INTO authors (display_name, email) VALUES
    ('Ban biên tập', 'toasoan@tintuc.example.vn'),
    ('Editorial board', NULL);
INSERT INTO categories (name) VALUES ('Thời sự'), ('News');
INSERT INTO articles (lang, slug, title, lead, body, author_id, image_path, image_caption, story_id, status,
                      published_at, updated_at)
SELECT v.lang, v.slug, v.title, v.lead, v.body, au.id, v.image_path, v.image_caption, v.story_id, v.status,
       v.published_at::timestamptz, v.updated_at::timestamptz
FROM (VALUES
    ('vi', 'chao-mung', 'Chào mừng đến với trang tin', 'Bài viết mẫu đầu tiên.',
     '<p>Đây là <strong>bài viết mẫu</strong>.</p>', 'Ban biên tập', '/images/chao-mung.jpg', 'Ảnh minh họa',
     1, 'published', '2025-12-01 08:00+07', NULL),
    ('en', 'welcome', 'Welcome to the news site', 'The first sample article.',
     '<p>This is a <strong>sample article</strong>.</p>', 'Editorial board', NULL, NULL,
     1, 'published', '2025-12-01 08:00+07', NULL),
    ('vi', 'tin-thu-hai', 'Tin thứ hai', 'Một bài viết mẫu nữa.',
     '<p>Nội dung của <em>bài thứ hai</em>.</p>', 'Ban biên tập', NULL, NULL,
     NULL, 'published', '2025-12-02 10:30+07', '2025-12-02 11:00+07'),
    ('vi', 'ban-nhap', 'Bài viết chưa duyệt', NULL, '<p>Chưa xuất bản.</p>', 'Ban biên tập', NULL, NULL,
     NULL, 'draft', '2025-12-03 09:00+07', NULL)
) AS v (lang, slug, title, lead, body, author, image_path, image_caption, story_id, status, published_at, updated_at)
JOIN authors au ON au.display_name = v.author;
INSERT INTO article_categories (article_id, category_id)
SELECT a.id, c.id FROM articles a JOIN categories c
  ON (a.slug, c.name) IN (('chao-mung', 'Thời sự'), ('welcome', 'News'), ('tin-thu-hai', 'Thời sự'));
