// Package appcontext reads typed values from a CDK app's context, whether cdk.json gives them as
// JSON or the command line as text (-c key=value): the reference app's settings, and any team
// app's that takes its own the same way.
package appcontext

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// String reads a context value as text: a string trimmed, or a number as written (a revision
// in cdk.json, say); anything else is "".
func String(node constructs.Node, key string) string {
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case string:
		return strings.TrimSpace(v)
	case float64: // a number in cdk.json, such as a revision
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// List reads a context value given either as a JSON array (cdk.json) or as a comma-separated
// string (-c key=a,b on the command line).
func List(node constructs.Node, key string) []string {
	var raw []string
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case string:
		raw = strings.Split(v, ",")
	case []any:
		for _, e := range v {
			raw = append(raw, fmt.Sprint(e))
		}
	}
	var out []string
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Bool reads a context value given as a JSON boolean or as text (true/false, yes/no, 1/0), def
// when it is absent.
func Bool(node constructs.Node, key string, def bool) (bool, error) {
	switch v := node.TryGetContext(jsii.String(key)).(type) {
	case nil:
		return def, nil
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("context %q must be true or false", key)
}

// Decode fills the fields of the struct v points to that carry a `ctx:"key"` tag from the
// context: a string with String, a []string with List, a bool with Bool, and a *bool only when
// the key is given. A `default:"..."` tag gives a string's or a bool's value when the key is
// absent.
func Decode(node constructs.Node, v any) error {
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		key, ok := f.Tag.Lookup("ctx")
		if !ok {
			continue
		}
		def := f.Tag.Get("default")
		field := rv.Field(i)
		switch field.Interface().(type) {
		case string:
			s := String(node, key)
			if s == "" {
				s = def
			}
			field.SetString(s)
		case []string:
			field.Set(reflect.ValueOf(List(node, key)))
		case bool:
			b, err := Bool(node, key, def == "true")
			if err != nil {
				return err
			}
			field.SetBool(b)
		case *bool:
			if node.TryGetContext(jsii.String(key)) == nil {
				continue
			}
			b, err := Bool(node, key, false)
			if err != nil {
				return err
			}
			field.Set(reflect.ValueOf(&b))
		default:
			return fmt.Errorf("appcontext: field %s has a type Decode does not read", f.Name)
		}
	}
	return nil
}
