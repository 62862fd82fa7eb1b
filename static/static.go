// Package static holds the console's embedded CSS and images, served under
// content-hashed URLs so browsers may cache them forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"strings"
)

//go:embed files
var files embed.FS

// FS is the embedded asset tree (names without the "files/" prefix).
var FS, _ = fs.Sub(files, "files")

var hashes = func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[path] = hex.EncodeToString(sum[:])[:12]
		return nil
	})
	return m
}()

// Prefix is where assets are served.
const Prefix = "/static/"

// URL returns the content-hashed URL of an asset: /static/<hash>/<name>.
func URL(name string) string {
	return Prefix + hashes[name] + "/" + name
}

// Lookup maps a request path below Prefix ("<hash>/<name>") to the asset's
// name; ok is false when the asset does not exist or the hash is stale.
func Lookup(rest string) (name string, ok bool) {
	hash, name, found := strings.Cut(rest, "/")
	if !found {
		return "", false
	}
	want, exists := hashes[name]
	return name, exists && want == hash
}
