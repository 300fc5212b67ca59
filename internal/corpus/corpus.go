// Package corpus holds what tests that read the shared conformance corpus
// (../shared/corpus beside the repository, see its README) share: which of
// its files are messages.
package corpus

import (
	"path/filepath"
	"strings"
)

// IsMessage reports whether a corpus file, by its path rel relative to the
// corpus, is a message (not an expectation, a licence, or TNEF golden
// data).
func IsMessage(rel string) bool {
	rel = filepath.ToSlash(rel)
	base := filepath.Base(rel)
	switch filepath.Ext(rel) {
	case ".json", ".yml", ".yaml", ".tsv", ".list", ".tnef", ".md":
		return false
	}
	switch {
	case strings.HasPrefix(base, "."), strings.HasPrefix(base, "LICENSE"), base == "COPYING", base == "MIT-LICENSE":
		return false
	case strings.Contains(rel, "/LICENSES/"):
		return false
	case strings.HasPrefix(rel, "mimekit/tnef/"):
		return strings.HasSuffix(rel, ".eml") && strings.Count(rel, "/") == 2
	}
	return strings.Contains(rel, "/")
}
