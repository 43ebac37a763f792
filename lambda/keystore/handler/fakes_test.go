package handler

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// fakeSecrets models the versions of secrets and their staging labels, as Secrets Manager keeps
// them: a label is on one version at a time, and the version AWSCURRENT leaves becomes AWSPREVIOUS.
type fakeSecrets struct {
	// secrets maps an ARN to its versions, in the order written.
	secrets map[string][]*fakeVersion
	// puts lists every value written, by secret.
	puts map[string][]string
	// moves counts UpdateSecretVersionStage calls.
	moves int
	fail  error
}

type fakeVersion struct {
	id     string
	value  string
	stages []string
}

// newFakeSecrets holds each ARN as the construct creates it: empty, without a version.
func newFakeSecrets(arns ...string) *fakeSecrets {
	f := &fakeSecrets{secrets: map[string][]*fakeVersion{}, puts: map[string][]string{}}
	for _, a := range arns {
		f.secrets[a] = nil
	}
	return f
}

func (f *fakeSecrets) versions(arn string) ([]*fakeVersion, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	v, ok := f.secrets[arn]
	if !ok {
		return nil, fmt.Errorf("ResourceNotFoundException: Secrets Manager can't find the specified secret %s", arn)
	}
	return v, nil
}

func (f *fakeSecrets) DescribeSecret(_ context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	versions, err := f.versions(aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	out := &secretsmanager.DescribeSecretOutput{ARN: in.SecretId, VersionIdsToStages: map[string][]string{}}
	for _, v := range versions {
		if len(v.stages) > 0 {
			out.VersionIdsToStages[v.id] = slices.Clone(v.stages)
		}
	}
	return out, nil
}

func (f *fakeSecrets) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	arn := aws.ToString(in.SecretId)
	versions, err := f.versions(arn)
	if err != nil {
		return nil, err
	}
	stages := in.VersionStages
	if len(stages) == 0 {
		stages = []string{"AWSCURRENT"}
	}
	v := &fakeVersion{id: fmt.Sprintf("v%d", len(versions)+1), value: aws.ToString(in.SecretString)}
	f.secrets[arn] = append(versions, v)
	for _, s := range stages {
		f.label(arn, s, v)
	}
	f.puts[arn] = append(f.puts[arn], v.value)
	return &secretsmanager.PutSecretValueOutput{ARN: in.SecretId, VersionId: aws.String(v.id), VersionStages: stages}, nil
}

func (f *fakeSecrets) UpdateSecretVersionStage(_ context.Context, in *secretsmanager.UpdateSecretVersionStageInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	arn := aws.ToString(in.SecretId)
	versions, err := f.versions(arn)
	if err != nil {
		return nil, err
	}
	f.moves++
	stage := aws.ToString(in.VersionStage)
	for _, v := range versions {
		if slices.Contains(v.stages, stage) && v.id != aws.ToString(in.RemoveFromVersionId) {
			return nil, fmt.Errorf("InvalidParameterException: %s is on version %s, not on RemoveFromVersionId", stage, v.id)
		}
	}
	for _, v := range versions {
		if v.id == aws.ToString(in.MoveToVersionId) {
			f.label(arn, stage, v)
			return &secretsmanager.UpdateSecretVersionStageOutput{ARN: in.SecretId}, nil
		}
	}
	return nil, fmt.Errorf("ResourceNotFoundException: no version %s", aws.ToString(in.MoveToVersionId))
}

// label puts stage on to alone; AWSCURRENT's previous holder becomes AWSPREVIOUS.
func (f *fakeSecrets) label(arn, stage string, to *fakeVersion) {
	for _, v := range f.secrets[arn] {
		if v != to && slices.Contains(v.stages, stage) {
			v.stages = slices.DeleteFunc(v.stages, func(s string) bool { return s == stage })
			if stage == "AWSCURRENT" {
				f.label(arn, "AWSPREVIOUS", v)
			}
		}
	}
	if !slices.Contains(to.stages, stage) {
		to.stages = append(to.stages, stage)
	}
}

// currentValue is what a node reading the secret gets.
func (f *fakeSecrets) currentValue(arn string) string {
	for _, v := range f.secrets[arn] {
		if slices.Contains(v.stages, "AWSCURRENT") {
			return v.value
		}
	}
	return ""
}

// writes counts the values written to any secret.
func (f *fakeSecrets) writes() int {
	n := 0
	for _, v := range f.puts {
		n += len(v)
	}
	return n
}

// hangingSecrets answers nothing until the caller gives up.
type hangingSecrets struct{}

func (hangingSecrets) DescribeSecret(ctx context.Context, _ *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingSecrets) PutSecretValue(ctx context.Context, _ *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingSecrets) UpdateSecretVersionStage(ctx context.Context, _ *secretsmanager.UpdateSecretVersionStageInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
