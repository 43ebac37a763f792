// Command keystore is the Lambda behind the ApimKeystore construct's custom resource: it makes
// the deployment's key pair and certificate and writes them, as a PKCS#12 keystore with its
// password, to the deployment's keystore secret. The logic is in package handler; this file
// wires the AWS SDK client.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apimkit/apimkit/lambda/keystore/handler"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("loading the AWS configuration", "error", err)
		os.Exit(1)
	}
	h := &handler.Handler{Secrets: secretsmanager.NewFromConfig(cfg), Log: logger}
	lambda.Start(cfn.LambdaWrap(h.Handle))
}
