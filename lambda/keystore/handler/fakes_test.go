package handler

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// fakeSecrets records every value written, by secret.
type fakeSecrets struct {
	puts map[string][]string
	fail error
}

func (f *fakeSecrets) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if f.puts == nil {
		f.puts = map[string][]string{}
	}
	id := aws.ToString(in.SecretId)
	f.puts[id] = append(f.puts[id], aws.ToString(in.SecretString))
	return &secretsmanager.PutSecretValueOutput{ARN: in.SecretId, VersionId: aws.String(fmt.Sprintf("v%d", len(f.puts[id])))}, nil
}

// writes counts the values written to any secret.
func (f *fakeSecrets) writes() int {
	n := 0
	for _, v := range f.puts {
		n += len(v)
	}
	return n
}
