package handler

import (
	"fmt"
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
