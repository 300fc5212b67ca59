// Package templates holds the text of every mail the desk sends, per
// language, embedded in the binary, with an optional directory of overrides.
//
// Each template is a file <lang>/<kind>.txt (kind being one of the store.Mail*
// kinds) written in text/template and defining two templates, "subject" and
// "body". The data is a View.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"unicode"
)

//go:embed */*.txt
var embedded embed.FS

// ErrUnknownKind is returned by Render for a kind that has no template.
var ErrUnknownKind = errors.New("no template for this kind of mail")

// fallback is the language used when a language has no template for a kind.
const fallback = "en"

// Set is a loaded, checked set of templates. It is safe for concurrent use.
type Set struct {
	byLang map[string]map[string]*template.Template // lang → kind → template
	kinds  []string                                 // the kinds of the embedded templates, sorted
}

// New parses the embedded templates and, when dir != "", overrides from
// dir/<lang>/<kind>.txt; every template is parsed (and executed once against
// sample data) at load so a broken override fails at startup, with the file
// name. An override directory may add a language; it may not add a kind.
// Files not ending in .txt are ignored.
func New(dir string) (*Set, error) {
	s := &Set{byLang: map[string]map[string]*template.Template{}}
	if err := s.load(embedded, ".", "embedded "); err != nil {
		return nil, err
	}
	for kind := range s.byLang[fallback] {
		s.kinds = append(s.kinds, kind)
	}
	slices.Sort(s.kinds)
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("templates: override directory: %w", err)
		}
		if err := s.load(os.DirFS(dir), dir, ""); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// load parses every <lang>/<kind>.txt of fsys; root and prefix only make the
// file names in errors useful.
func (s *Set) load(fsys fs.FS, root, prefix string) error {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("templates: read %s: %w", root, err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, err := fs.ReadDir(fsys, d.Name())
		if err != nil {
			return fmt.Errorf("templates: read %s: %w", filepath.Join(root, d.Name()), err)
		}
		for _, f := range files {
			if f.IsDir() || !strings.HasSuffix(f.Name(), ".txt") {
				continue
			}
			if err := s.loadFile(fsys, d.Name(), f.Name(), prefix+filepath.Join(root, d.Name(), f.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadFile parses dir/file of fsys as the template of one language and kind.
func (s *Set) loadFile(fsys fs.FS, dir, file, name string) error {
	kind := strings.TrimSuffix(file, ".txt")
	if s.kinds != nil && !slices.Contains(s.kinds, kind) {
		return fmt.Errorf("templates: %s: unknown kind %q (known: %s)", name, kind, strings.Join(s.kinds, ", "))
	}
	if !validLang(dir) {
		return fmt.Errorf("templates: %s: %q is not a language tag", name, dir)
	}
	text, err := fs.ReadFile(fsys, path.Join(dir, file))
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	lang := strings.ToLower(dir)
	t, err := parse(name, lang, string(text))
	if err != nil {
		return err
	}
	if s.byLang[lang] == nil {
		s.byLang[lang] = map[string]*template.Template{}
	}
	s.byLang[lang][kind] = t
	return nil
}

// parse parses one template file and proves that it renders.
func parse(name, lang, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(funcs(lang)).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", name, err)
	}
	for _, part := range []string{"subject", "body"} {
		if t.Lookup(part) == nil {
			return nil, fmt.Errorf("templates: %s: no {{define %q}}", name, part)
		}
	}
	for _, v := range []View{sampleView(), {}} {
		subject, _, err := render(t, v)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		if v.Case != 0 && subject == "" {
			return nil, fmt.Errorf("templates: %s: the subject is empty", name)
		}
	}
	return t, nil
}

// Render executes kind in lang (falling back to "en" when the language has
// no such template) with data and returns the subject (one line, trimmed,
// CR/LF removed) and the body (LF line ends, trailing space trimmed).
func (s *Set) Render(lang, kind string, data any) (subject, body string, err error) {
	t := s.byLang[s.Resolve(lang, kind)][kind]
	if t == nil {
		return "", "", fmt.Errorf("render %s: %w", kind, ErrUnknownKind)
	}
	subject, body, err = render(t, data)
	if err != nil {
		return "", "", fmt.Errorf("render %s: %w", kind, err)
	}
	return subject, body, nil
}

// Resolve reports the language Render uses for lang and kind: lang itself
// (lower-cased), else its primary subtag ("ja" for "ja-JP"), else "en".
func (s *Set) Resolve(lang, kind string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if s.byLang[lang][kind] != nil {
		return lang
	}
	if base, _, ok := strings.Cut(lang, "-"); ok && s.byLang[base][kind] != nil {
		return base
	}
	return fallback
}

// Kinds lists the kinds of mail that have a template.
func (s *Set) Kinds() []string { return slices.Clone(s.kinds) }

// Languages lists the embedded languages.
func Languages() []string {
	var out []string
	entries, _ := fs.ReadDir(embedded, ".")
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

func render(t *template.Template, data any) (subject, body string, err error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "subject", data); err != nil {
		return "", "", err
	}
	subject = cleanSubject(b.String())
	b.Reset()
	if err := t.ExecuteTemplate(&b, "body", data); err != nil {
		return "", "", err
	}
	return subject, cleanBody(b.String()), nil
}

// cleanSubject makes s one line: control characters (CR and LF among them)
// become spaces, runs of spaces become one, and the ends are trimmed.
func cleanSubject(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || r == ' ' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// cleanBody gives s LF line ends, trims trailing white space from every line
// (except the signature separator "-- ", RFC 3676 §4.3) and blank lines from
// both ends, and ends it with one newline.
func cleanBody(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "-- " {
			lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
		}
	}
	s = strings.Trim(strings.Join(lines, "\n"), "\n")
	if s == "" {
		return ""
	}
	return s + "\n"
}

// validLang accepts language tags like "en", "pt-BR", "zh-Hant".
func validLang(s string) bool {
	if s == "" || len(s) > 35 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
