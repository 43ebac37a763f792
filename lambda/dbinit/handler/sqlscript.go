package handler

import (
	"fmt"
	"regexp"
	"strings"
)

// SplitStatements cuts a SQL script into statements at the semicolons that end them, outside
// quotes and comments. Comments are dropped. A DELIMITER directive (used for stored programs)
// is refused, since the WSO2 MySQL scripts have none and executing one wrongly would half-apply a
// schema.
func SplitStatements(script string) ([]string, error) {
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	line := 1
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case c == '\n':
			line++
			cur.WriteByte(c)
		case c == '\'' || c == '"' || c == '`':
			start := line
			j := i + 1
			for ; j < len(script); j++ {
				if script[j] == '\n' {
					line++
				}
				if script[j] == '\\' && c != '`' {
					j++
					continue
				}
				if script[j] == c {
					if j+1 < len(script) && script[j+1] == c { // doubled quote
						j++
						continue
					}
					break
				}
			}
			if j >= len(script) {
				return nil, fmt.Errorf("line %d: unterminated %c quote", start, c)
			}
			cur.WriteString(script[i : j+1])
			i = j
		case c == '#' || (c == '-' && strings.HasPrefix(script[i:], "-- ")) || (c == '-' && strings.HasPrefix(script[i:], "--\n")):
			for i < len(script) && script[i] != '\n' {
				i++
			}
			i-- // let the newline be counted
		case c == '/' && strings.HasPrefix(script[i:], "/*"):
			end := strings.Index(script[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(script[i:i+2+end], "\n")
			cur.WriteByte(' ')
			i += end + 3
		case c == ';':
			flush()
		default:
			if (c == 'D' || c == 'd') && strings.TrimSpace(cur.String()) == "" && strings.EqualFold(firstWord(script[i:]), "DELIMITER") {
				return nil, fmt.Errorf("line %d: DELIMITER is not supported", line)
			}
			cur.WriteByte(c)
		}
	}
	flush()
	return out, nil
}

func firstWord(s string) string {
	end := strings.IndexAny(s, " \t\r\n")
	if end < 0 {
		return s
	}
	return s[:end]
}

// createTable matches the start of a CREATE TABLE statement up to its table's name, which may be
// quoted with backticks and qualified with a database.
var createTable = regexp.MustCompile("(?is)^CREATE\\s+(TEMPORARY\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?" +
	"(?:(?:`[^`]+`|[A-Za-z0-9_$]+)\\s*\\.\\s*)?(`[^`]+`|[A-Za-z0-9_$]+)")

// CreatedTables lists, in script order and once each, the tables the statements create (not the
// temporary ones, which do not outlive the session), without a database qualifier or quotes.
func CreatedTables(stmts []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range stmts {
		m := createTable.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil || m[1] != "" {
			continue
		}
		name := strings.Trim(m[2], "`")
		if key := strings.ToLower(name); !seen[key] {
			seen[key] = true
			out = append(out, name)
		}
	}
	return out
}
