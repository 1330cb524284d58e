// What Go's gofeed (github.com/mmcdole/gofeed, its universal Feed/Item) reports for each feed file
// named on the command line, printed as one JSON object: {"file": {"items": [...]}} or {"file": {"error": ...}}.
//
// Built offline against Debian's packaged sources:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o gofeed-dump gofeed_dump.go
package main

import (
	"encoding/json"
	"os"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
)

func instant(t *time.Time) interface{} {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func text(s string) interface{} {
	if s == "" {
		return nil
	}
	return s
}

// The item's image: gofeed's Image when it sets one (JSON Feed "image"), else the first image enclosure.
func image(item *gofeed.Item) (interface{}, interface{}) {
	var url, length interface{}
	for _, e := range item.Enclosures {
		if strings.HasPrefix(e.Type, "image/") {
			url, length = e.URL, text(e.Length)
			break
		}
	}
	if item.Image != nil && item.Image.URL != "" {
		url = item.Image.URL
	}
	return url, length
}

func dump(path string) map[string]interface{} {
	f, err := os.Open(path)
	if err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	defer f.Close()
	feed, err := gofeed.NewParser().Parse(f)
	if err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	items := []map[string]interface{}{}
	for _, item := range feed.Items {
		var author interface{}
		if item.Author != nil {
			author = text(item.Author.Name)
		}
		content := item.Content
		if content == "" {
			content = item.Description
		}
		img, imgLength := image(item)
		items = append(items, map[string]interface{}{
			"id":           text(item.GUID),
			"link":         text(item.Link),
			"title":        text(item.Title),
			"published":    instant(item.PublishedParsed),
			"updated":      instant(item.UpdatedParsed),
			"author":       author,
			"categories":   item.Categories,
			"image":        img,
			"image_length": imgLength,
			"content":      text(content),
		})
	}
	return map[string]interface{}{"items": items}
}

func main() {
	result := map[string]interface{}{}
	for _, path := range os.Args[1:] {
		result[path] = dump(path)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	if err := out.Encode(result); err != nil {
		os.Exit(1)
	}
}
