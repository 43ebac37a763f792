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

// goLambdaCode returns the code of the Go Lambda in lambda/<name>, compiled for arm64 Linux
// (provided.al2023) on this machine at synth time, without Docker. The asset hash covers the
// function's directory (its sources and embedded files; not tests), go.mod, go.sum and the Go
// release, so a change to any of them deploys a new binary.
func goLambdaCode(name string) awslambda.Code {
	root, err := moduleRoot()
	if err != nil {
		panic(fmt.Errorf("building the %s Lambda: %w", name, err))
	}
	src := filepath.Join(root, "lambda", name)
	hash, err := sourceHash(root, src)
	if err != nil {
		panic(fmt.Errorf("building the %s Lambda: %w", name, err))
	}
	return awslambda.Code_FromAsset(jsii.String(src), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		AssetHash:     jsii.String(hash),
		Bundling: &awscdk.BundlingOptions{
			// Never pulled: the local bundler below always builds, and fails loudly if it cannot.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
			Local: &goBundler{root: root, pkg: "./lambda/" + name, hash: hash},
		},
	})
}

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

// goBundler builds a Go Lambda with the local Go toolchain. Binaries are kept in the user's cache
// directory under their source hash, so a synth whose sources did not change copies instead of
// linking again.
type goBundler struct {
	root string // module root, the build's working directory (may be read-only)
	pkg  string // package to build, relative to root
	hash string // sourceHash of the package
}

// TryBundle implements awscdk.ILocalBundling.
func (b *goBundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	out := filepath.Join(*outputDir, "bootstrap")
	cached := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cached = filepath.Join(dir, "apimkit", "lambda", b.hash, "bootstrap")
		if copyFile(cached, out) == nil {
			return jsii.Bool(true)
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w", "-o", out, b.pkg)
	cmd.Dir = b.root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		panic(fmt.Errorf("building the Lambda %s in %s with the local Go toolchain: %v\n%s", b.pkg, b.root, err, msg))
	}
	if cached != "" && os.MkdirAll(filepath.Dir(cached), 0o755) == nil {
		// Best effort: a cache that cannot be written only costs the next synth a link.
		tmp := cached + ".tmp"
		if copyFile(out, tmp) == nil {
			os.Rename(tmp, cached)
		}
	}
	return jsii.Bool(true)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	o, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return err
	}
	return o.Close()
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
