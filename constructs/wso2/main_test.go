package wso2_test

import (
	"testing"

	"github.com/apimkit/apimkit/constructs/wso2"
	"github.com/apimkit/apimkit/test/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// partialDeployment is the context of fixtures that build one part of a deployment, whose peers
// (a control plane, the traffic managers' clients) are not in the app: the wiring check, which
// the whole-deployment tests hold, is off for them.
var partialDeployment = map[string]any{wso2.ContextWiringCheck: false}
