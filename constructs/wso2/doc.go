// Package wso2 holds the CDK constructs that deploy WSO2 API Manager on AWS after the reference
// architecture in docs/ (a fully distributed, highly available deployment across two or more
// availability zones).
//
// Every construct validates its props when it is created and panics with a message that names the
// prop and the fix, before it adds anything to the tree, so a bad prop never leaves a half-built
// deployment behind.
package wso2
