package wso2_test

import (
	"os"
	"testing"

	"github.com/apimkit/apimkit/test/testkit"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.Cleanup()
	os.Exit(code)
}
