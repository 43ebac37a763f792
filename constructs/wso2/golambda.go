package wso2

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/internal/lambdabuild"
	"github.com/apimkit/apimkit/internal/lambdazip"
)

// modulePath is this library's Go module; its Lambda sources live under lambda/ in it.
const modulePath = "github.com/apimkit/apimkit"

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// moduleRoot finds this module's source tree: the checkout the code was compiled from, or, when
// the library is imported by another module (paths trimmed, sources in the read-only module
// cache), wherever the go command says the module is.
func moduleRoot() (string, error) {
	rootOnce.Do(func() {
		if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
			dir := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
			if isModuleRoot(dir) {
				rootDir = dir
				return
			}
		}
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", modulePath).Output()
		if err != nil {
			rootErr = fmt.Errorf("locating the %s sources with `go list -m`: %w", modulePath, err)
			return
		}
		dir := strings.TrimSpace(string(out))
		if !isModuleRoot(dir) {
			rootErr = fmt.Errorf("`go list -m %s` gave %q, which holds no such module", modulePath, dir)
			return
		}
		rootDir = dir
	})
	return rootDir, rootErr
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && strings.Contains(string(b), "module "+modulePath+"\n")
}

// FromSourceEnv names the environment variable that makes a synth build the Lambda functions
// from this module's sources with the local Go toolchain instead of deploying the zips the module
// ships prebuilt (internal/lambdazip). Any value but empty or "0" turns it on.
const FromSourceEnv = "APIMKIT_LAMBDA_FROM_SOURCE"

// goLambdaCode returns the code of the Go Lambda in lambda/<name> (a bootstrap for arm64 Linux,
// provided.al2023) as a zip asset whose hash is the zip's SHA-256. By default the zip is the one
// this module ships, built by `make lambdas` and proven to match the sources by the lambdabuild
// tests, so a synth compiles nothing and every consumer deploys the same bytes under the same
// hash. With APIMKIT_LAMBDA_FROM_SOURCE set, the function is built here from the module's
// sources with the same flags (with the pinned Go release, the same bytes and hash).
func goLambdaCode(name string) awslambda.Code {
	var (
		zip []byte
		err error
	)
	if v := os.Getenv(FromSourceEnv); v != "" && v != "0" {
		zip, err = sourceZip(name)
	} else {
		zip, err = lambdazip.Zip(name)
	}
	if err != nil {
		panic(fmt.Errorf("the %s Lambda: %w", name, err))
	}
	hash := lambdabuild.Sum(zip)
	path, err := stageZip(hash, zip)
	if err != nil {
		panic(fmt.Errorf("the %s Lambda: %w", name, err))
	}
	return awslambda.Code_FromAsset(jsii.String(path), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		AssetHash:     jsii.String(hash),
	})
}

// stageZip writes zip where aws-cdk-lib can copy it from: the user's cache directory (or the
// temporary one) under its hash, written once and reused by later synths.
func stageZip(hash string, zip []byte) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "apimkit", "lambda")
	path := filepath.Join(dir, hash+".zip")
	if b, err := os.ReadFile(path); err == nil && lambdabuild.Sum(b) == hash {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, hash+".*.tmp")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(zip); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

// sourceZip builds the function from the module's sources with the go command on PATH, keeping
// the zip in the user's cache directory under the sources' hash, so a synth whose sources did
// not change reuses it instead of linking again.
func sourceZip(name string) ([]byte, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	hash, err := sourceHash(root, filepath.Join(root, "lambda", name))
	if err != nil {
		return nil, err
	}
	cached := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cached = filepath.Join(dir, "apimkit", "lambda-source", hash+".zip")
		if b, err := os.ReadFile(cached); err == nil {
			return b, nil
		}
	}
	zips, err := lambdabuild.Build(root, []string{name}, false)
	if err != nil {
		return nil, err
	}
	if cached != "" && os.MkdirAll(filepath.Dir(cached), 0o755) == nil {
		// Best effort: a cache that cannot be written only costs the next synth a link.
		tmp := cached + ".tmp"
		if os.WriteFile(tmp, zips[name], 0o644) == nil {
			os.Rename(tmp, cached)
		}
	}
	return zips[name], nil
}

// sourceHash covers what building lambda/<name> reads: the function's directory (its sources and
// embedded files; not tests), go.mod, go.sum and the Go release this program was built with.
func sourceHash(root, src string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	add := func(path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintln(h, filepath.ToSlash(rel))
		_, err = io.Copy(h, f)
		return err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := add(filepath.Join(root, f)); err != nil {
			return "", err
		}
	}
	// Every file the build can read: Go sources and the files they embed (such as the RDS
	// roots). Not tests, their data, or what the go command ignores (names starting with . or
	// _). TestLambdasImportOnlyTheirOwnPackages keeps the functions' module-local imports
	// inside their directories, so this walk sees all of them.
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case path != src && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")):
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.IsDir() && d.Name() == "testdata":
			return fs.SkipDir
		case d.IsDir() || strings.HasSuffix(path, "_test.go"):
			return nil
		}
		return add(path)
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// vpcFunctionPolicies is the AwsSolutions-IAM4 suppression every Go function in the VPC needs:
// aws-cdk-lib attaches the two AWS-managed Lambda execution policies to its role.
func vpcFunctionPolicies() *cdknag.NagPackSuppression {
	return &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-IAM4"),
		Reason: jsii.String("aws-cdk-lib gives a function in a VPC the AWS-managed AWSLambdaBasicExecutionRole " +
			"(its own logs) and AWSLambdaVPCAccessExecutionRole (its network interfaces), the documented minimum."),
		AppliesTo: &[]any{
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
		},
	}
}
