# What Ruby's standard rss library reports for each feed file named on the command line, printed
# as one JSON object: {"file": {"items": [...]}} or {"file": {"error": ...}}.
require "json"
require "rss"

def text(value)
  value.nil? || value.to_s.empty? ? nil : value.to_s
end

def instant(time)
  time&.getutc&.strftime("%Y-%m-%dT%H:%M:%SZ")
end

def atom_item(entry)
  enclosure = entry.links.find { |l| l.rel == "enclosure" }
  {
    "id" => text(entry.id&.content),
    "link" => text(entry.link&.href),
    "links" => entry.links.map { |l| [l.rel, l.href, l.hreflang] },
    "title" => text(entry.title&.content),
    "published" => instant(entry.published&.content),
    "updated" => instant(entry.updated&.content),
    "author" => text(entry.author&.name&.content),
    "categories" => entry.categories.map(&:term),
    "image" => text(enclosure&.href),
    "image_length" => text(enclosure&.length),
    "content" => text(entry.content&.content || entry.summary&.content),
  }
end

def rss_item(item)
  {
    "id" => text(item.guid&.content),
    "link" => text(item.link),
    "links" => nil,
    "title" => text(item.title),
    "published" => instant(item.pubDate),
    "updated" => nil,
    "author" => text(item.dc_creator || item.author),
    "categories" => item.categories.map(&:content),
    "image" => text(item.enclosure&.url),
    "image_length" => text(item.enclosure&.length),
    "content" => text(item.content_encoded || item.description),
  }
end

def dump(path)
  feed = RSS::Parser.parse(File.read(path, encoding: "UTF-8"), false)
  return { "error" => "not a feed" } if feed.nil?
  items = feed.is_a?(RSS::Atom::Feed) ? feed.entries.map { |e| atom_item(e) } : feed.items.map { |i| rss_item(i) }
  { "items" => items }
rescue StandardError => e
  { "error" => "#{e.class}: #{e.message}" }
end

puts JSON.generate(ARGV.to_h { |path| [path, dump(path)] })
