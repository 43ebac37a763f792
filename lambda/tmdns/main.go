// Command tmdns is the traffic-manager DNS updater behind TrafficManagerPair: it points each
// node's record at its group's live instance on launch, on a schedule and at deploy time. The logic
// is in package handler; this file wires the AWS SDK clients.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/apimkit/apimkit/lambda/tmdns/handler"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	c, err := handler.ConfigFromEnv(os.Getenv)
	if err != nil {
		logger.Error("configuration", "error", err)
		os.Exit(1)
	}
	aws, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("loading the AWS configuration", "error", err)
		os.Exit(1)
	}
	h := &handler.Handler{
		DNS:       route53.NewFromConfig(aws),
		Groups:    autoscaling.NewFromConfig(aws),
		Instances: ec2.NewFromConfig(aws),
		Config:    c,
		Log:       logger,
	}
	lambda.Start(h.Invoke)
}
