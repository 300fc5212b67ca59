package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyPositions maps the keys written in a TOML document to where they
// start, named the way ConfigError.Key names them: "smtp.tls",
// "mailbox[1].host", and tables by their header: "smtp", "mailbox[1]".
// Keys set in inline tables are not listed (their parent key is). A
// document that does not parse gives what was read before the error.
func keyPositions(data []byte) map[string][2]int {
	pos := map[string][2]int{}
	var p unstable.Parser
	p.Reset(data)
	table := ""
	arrays := map[string]int{} // [[name]] tables seen so far
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = dotted(e.Key())
		case unstable.ArrayTable:
			name := dotted(e.Key())
			table = fmt.Sprintf("%s[%d]", name, arrays[name])
			arrays[name]++
		case unstable.KeyValue:
			key := dotted(e.Key())
			if table != "" {
				key = table + "." + key
			}
			pos[key] = start(&p, e.Key())
			continue
		default:
			continue
		}
		pos[table] = start(&p, e.Key())
	}
	return pos
}

// dotted joins the parts of a key with dots.
func dotted(it unstable.Iterator) string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

// start is the line and column of the first part of a key.
func start(p *unstable.Parser, it unstable.Iterator) [2]int {
	if !it.Next() {
		return [2]int{}
	}
	s := p.Shape(it.Node().Raw)
	return [2]int{s.Start.Line, s.Start.Column}
}

// index matches the index of an array element at the end of a key:
// "desk.agents[1]" is written at "desk.agents".
var index = regexp.MustCompile(`\[\d+\]$`)

// locate gives each *ConfigError of err (one, or an errors.Join of them)
// without a position the position of its key in data, or of the nearest
// enclosing key or table written there ("mailbox[0].password", unset, is
// reported at the [[mailbox]] header). A key set nowhere in the file (a
// default) keeps no position.
func locate(data []byte, err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var pos map[string][2]int
	for _, e := range errs {
		ce, ok := errors.AsType[*ConfigError](e)
		if !ok || ce.Line > 0 || ce.Key == "" {
			continue
		}
		if pos == nil {
			pos = keyPositions(data)
		}
		for key := ce.Key; key != ""; {
			if at, ok := pos[key]; ok && at[0] > 0 {
				ce.Line, ce.Column = at[0], at[1]
				break
			}
			if trimmed := index.ReplaceAllString(key, ""); trimmed != key {
				key = trimmed
				continue
			}
			i := strings.LastIndexByte(key, '.')
			if i < 0 {
				break
			}
			key = key[:i]
		}
	}
	return err
}
