// What npm's rss-parser reports for each feed file named on the command line, printed as one JSON
// object: {"file": {"items": [...]}} or {"file": {"error": ...}}. Found through NODE_PATH.
'use strict';
const fs = require('fs');
const Parser = require('rss-parser');

const text = (value) => (value === undefined || value === null || value === '' ? null : String(value));
const instant = (value) => (value ? new Date(value).toISOString().replace('.000Z', 'Z') : null);

function item(entry) {
  const enclosure = entry.enclosure || null;
  return {
    id: text(entry.guid || entry.id),
    link: text(entry.link),
    title: text(entry.title),
    published: instant(entry.isoDate),
    updated: null,
    author: text(entry.creator || entry.author),
    categories: entry.categories || [],
    image: enclosure ? text(enclosure.url) : null,
    image_length: enclosure ? text(enclosure.length) : null,
    content: text(entry['content:encoded'] || entry.content),
  };
}

async function dump(path) {
  try {
    const feed = await new Parser().parseString(fs.readFileSync(path, 'utf8'));
    return { items: feed.items.map(item) };
  } catch (error) {
    return { error: String(error && error.message) };
  }
}

(async () => {
  const result = {};
  for (const path of process.argv.slice(2)) result[path] = await dump(path);
  process.stdout.write(JSON.stringify(result) + '\n');
})();
