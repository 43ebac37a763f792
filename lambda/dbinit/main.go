// Command dbinit is the Lambda behind the ApimDatabase construct's schema custom resource: it
// creates the WSO2 databases and application user and loads the schema scripts from the product
// pack. The logic is in package handler; this file wires the AWS SDK clients.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/apimkit/apimkit/lambda/dbinit/handler"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("loading the AWS configuration", "error", err)
		os.Exit(1)
	}
	h := &handler.Handler{
		Secrets: secretsmanager.NewFromConfig(cfg),
		Objects: s3.NewFromConfig(cfg),
		Log:     logger,
	}
	lambda.Start(cfn.LambdaWrap(h.Handle))
}
