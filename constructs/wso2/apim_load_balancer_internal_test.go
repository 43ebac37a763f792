package wso2

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
)

// A route's rule priority is the one it names, else 10 times its place.
func TestRoutePriority(t *testing.T) {
	assert.Equal(t, 10.0, routePriority(0, LoadBalancedProfile{}))
	assert.Equal(t, 30.0, routePriority(2, LoadBalancedProfile{}))
	assert.Equal(t, 7.0, routePriority(2, LoadBalancedProfile{Priority: jsii.Number(7)}))
}
