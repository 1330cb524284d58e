// What npm's @rowanmanning/feed-parser reports for each feed file named on the command line, printed
// as one JSON object: {"file": {"items": [...]}} or {"file": {"error": ...}}. Found through NODE_PATH.
'use strict';
const fs = require('fs');
const { parseFeed } = require('@rowanmanning/feed-parser');

const text = (value) => (value === undefined || value === null || value === '' ? null : String(value));
const instant = (value) => (value ? new Date(value).toISOString().replace('.000Z', 'Z') : null);

function item(entry) {
  const image = entry.media.find((m) => m.type === 'image') || null;
  return {
    id: text(entry.id),
    link: text(entry.url),
    title: text(entry.title),
    published: instant(entry.published),
    updated: instant(entry.updated),
    author: entry.authors.length ? text(entry.authors[0].name) : null,
    categories: entry.categories.map((c) => c.term),
    image: image ? text(image.url) : null,
    image_length: image ? text(image.length) : null,
    content: text(entry.content || entry.description),
  };
}

function dump(path) {
  try {
    return { items: parseFeed(fs.readFileSync(path, 'utf8')).items.map(item) };
  } catch (error) {
    return { error: String(error && error.message) };
  }
}

const result = {};
for (const path of process.argv.slice(2)) result[path] = dump(path);
process.stdout.write(JSON.stringify(result) + '\n');
