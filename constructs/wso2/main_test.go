package wso2_test

import (
	"testing"

	"github.com/apimkit/apimkit/test/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }
