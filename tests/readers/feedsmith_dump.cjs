// What npm's feedsmith reports for each feed file named on the command line (RSS, Atom or JSON
// Feed), printed as one JSON object: {"file": {"items": [...]}} or {"file": {"error": ...}}.
// feedsmith returns the document's own fields and strings; dates are read with JavaScript's Date,
// as an application using it would. Found through NODE_PATH.
'use strict';
const fs = require('fs');
const { parseFeed } = require('feedsmith');

const text = (value) => (value === undefined || value === null || value === '' ? null : String(value));
const instant = (value) => (value ? new Date(value).toISOString().replace('.000Z', 'Z') : null);

function rssItem(item) {
  const enclosure = (item.enclosures || [])[0] || null;
  return {
    id: text(item.guid && item.guid.value),
    link: text(item.link),
    title: text(item.title),
    published: instant(item.pubDate),
    updated: null,
    author: text((item.dc && item.dc.creators && item.dc.creators[0]) || (item.authors && item.authors[0])),
    categories: (item.categories || []).map((c) => c.name),
    image: enclosure ? text(enclosure.url) : null,
    image_length: enclosure ? text(enclosure.length) : null,
    content: text((item.content && item.content.encoded) || item.description),
  };
}

function atomEntry(entry) {
  const links = entry.links || [];
  const enclosure = links.find((l) => l.rel === 'enclosure') || null;
  const author = (entry.authors || [])[0];
  return {
    id: text(entry.id),
    links: links.map((l) => [l.rel || null, l.href, l.hreflang || null]),
    title: text(entry.title && entry.title.value),
    published: instant(entry.published),
    updated: instant(entry.updated),
    author: text(author && author.name),
    categories: (entry.categories || []).map((c) => c.term),
    image: enclosure ? text(enclosure.href) : null,
    image_length: enclosure ? text(enclosure.length) : null,
    content: text((entry.content && entry.content.value) || (entry.summary && entry.summary.value)),
  };
}

function jsonItem(item) {
  const author = (item.authors || [])[0] || item.author;
  return {
    id: text(item.id),
    link: text(item.url),
    title: text(item.title),
    published: instant(item.date_published),
    updated: instant(item.date_modified),
    author: text(author && author.name),
    categories: item.tags || [],
    image: text(item.image),
    image_length: text(((item.attachments || [])[0] || {}).size_in_bytes),
    content: text(item.content_html || item.content_text),
  };
}

function dump(path) {
  try {
    const { format, feed } = parseFeed(fs.readFileSync(path, 'utf8'));
    if (format === 'rss') return { items: (feed.items || []).map(rssItem) };
    if (format === 'atom') return { items: (feed.entries || []).map(atomEntry) };
    if (format === 'json') return { items: (feed.items || []).map(jsonItem) };
    return { error: `unexpected format ${format}` };
  } catch (error) {
    return { error: String(error && error.message) };
  }
}

const result = {};
for (const path of process.argv.slice(2)) result[path] = dump(path);
process.stdout.write(JSON.stringify(result) + '\n');
