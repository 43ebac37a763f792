// Command packpin is the Lambda behind the PackPromoter construct's custom resources: it copies a
// staged version of a WSO2 pack or JDBC driver to the key the nodes install it from, and answers
// the copy's version id and SHA-256, which the nodes' launch template pins. The logic is in
// package handler; this file wires the AWS SDK client.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/apimkit/apimkit/lambda/packpin/handler"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("loading the AWS configuration", "error", err)
		os.Exit(1)
	}
	h := &handler.Handler{Objects: s3.NewFromConfig(cfg), Log: logger}
	lambda.Start(cfn.LambdaWrap(h.Handle))
}
