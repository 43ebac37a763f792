package wso2

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// propsError panics with a message that starts with the construct's name, so a user reading a
// synth failure knows which construct refused which prop.
func propsError(construct, format string, args ...any) {
	panic(fmt.Errorf("%s: %s", construct, fmt.Sprintf(format, args...)))
}

// unresolved reports whether s is a CDK token, such as the region of an environment-agnostic stack.
func unresolved(s *string) bool { return *awscdk.Token_IsUnresolved(s) }

// given describes an optional string prop for an error message: quoted, or "nothing".
func given(s *string) string {
	if s == nil {
		return "nothing"
	}
	return fmt.Sprintf("%q", *s)
}
