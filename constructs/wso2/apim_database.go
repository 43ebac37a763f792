package wso2

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/apimkit/apimkit/constructs/profiles"
	"github.com/apimkit/apimkit/lambda/dbinit/rdsca"
)

// SchemaPack locates the WSO2 product pack whose dbscripts/ the schema is loaded from.
type SchemaPack struct {
	// Bucket holds the pack. Required.
	Bucket awss3.IBucket
	// Key is the pack's object key, such as wso2am-4.3.0.zip. Required.
	Key *string
}

// ApimDatabaseProps configures an ApimDatabase. Only Network is required.
type ApimDatabaseProps struct {
	// Network places the database in its data tier and the schema function in its application
	// tier. Required.
	Network *ApimNetwork
	// EngineVersion is the MySQL version; RDS upgrades minor versions automatically.
	// Default: DefaultMysqlVersion(), MySQL 8.0.46.
	EngineVersion awsrds.MysqlEngineVersion
	// ExtendedSupport says whether the instance may run its major version after RDS's end of
	// standard support, billed per vCPU-hour (the Multi-AZ standby too) as RDS Extended
	// Support. true is RDS's default and only silences the warning below (the template stays
	// as it was). false sets the instance's EngineLifecycleSupport, which RDS takes at create
	// time only: a new instance of a version past its standard support is then refused, and
	// setting it on an existing instance fails the stack update. MySQL 8.0 left standard support
	// on 31 July 2026: with it, synth warns (apimkit:mysqlExtendedSupport) unless this is true.
	// Default: unset, Extended Support on.
	ExtendedSupport *bool
	// AppPasswordRevision is any text; changing it makes the next deploy set the WSO2 user's
	// password in the database to the application secret's, after the secret was given a new
	// one (CloudFormation runs the schema function only when its properties change).
	// Default: none.
	AppPasswordRevision *string
	// InstanceType of the primary.
	// Default: db.m7g.large (Graviton, general purpose, Performance Insights supported).
	InstanceType awsec2.InstanceType
	// MultiAz keeps a synchronous standby in a second zone that RDS fails over to.
	// Default: true.
	MultiAz *bool
	// AllocatedStorageGiB is the initial gp3 storage.
	// Default: 100.
	AllocatedStorageGiB *float64
	// MaxAllocatedStorageGiB bounds storage autoscaling.
	// Default: 500.
	MaxAllocatedStorageGiB *float64
	// BackupRetention keeps automated backups (point-in-time recovery) this long, 1 to 35 days.
	// Default: 7 days.
	BackupRetention awscdk.Duration
	// DeletionProtection stops the instance from being deleted, by CloudFormation or by hand.
	// Default: true.
	DeletionProtection *bool
	// RemovalPolicy applies when the resource leaves the stack: SNAPSHOT or RETAIN. DESTROY is
	// refused: the database holds every API, subscription and user.
	// Default: SNAPSHOT.
	RemovalPolicy awscdk.RemovalPolicy
	// MaxConnections is the server's connection limit; size it for the WSO2 nodes' pools (each
	// node holds a pool per database).
	// Default: 600.
	MaxConnections *float64
	// LogRetention bounds how long the exported error and slow-query logs are kept.
	// Default: one year.
	LogRetention awslogs.RetentionDays
	// EncryptionKey encrypts storage, secrets, logs and Performance Insights.
	// Default: a new customer-managed key with rotation, retained on deletion.
	EncryptionKey awskms.IKey
	// AppUsername is the WSO2 application user.
	// Default: wso2apim.
	AppUsername *string
	// ReadReplicas adds that many read replicas in the data tier, 0 to 5.
	// Default: 0.
	ReadReplicas *float64
	// ReplicaInstanceType sizes the replicas.
	// Default: the primary's InstanceType.
	ReplicaInstanceType awsec2.InstanceType
	// AlarmTopic receives the alarms' notifications.
	// Default: the alarms exist but notify nobody.
	AlarmTopic awssns.ITopic
	// Pack is the WSO2 product pack the schema scripts are loaded from, into empty databases.
	// Default: none; the databases and the user are created, the schema is not loaded.
	Pack *SchemaPack
	// VerifyServerCertificate makes the schema function check, when it connects over TLS, that
	// the database's certificate chains to one of the Amazon RDS roots it embeds (those of the
	// regions rdsca.Regions() lists) and names the endpoint. True in a region whose roots are
	// not embedded is refused, as the function could not connect. False still encrypts but
	// accepts any certificate.
	// The WSO2 nodes (ProfileAsg) verify too, against the region's root, when the region is
	// known at synth.
	// Default: true where the region's roots are embedded, or where the region is unknown at
	// synth (with a warning: in a region whose roots are not embedded the schema would fail
	// to load, and the nodes only encrypt); elsewhere false, with a warning.
	VerifyServerCertificate *bool
}

// ApimDatabase is the production MySQL of the reference architecture (property P3): an encrypted
// Multi-AZ RDS instance in the isolated data tier, with backups, deletion protection, a snapshot on
// removal, RDS-managed master credentials, a separate least-privilege WSO2 user, the WSO2 databases
// created and their schema loaded by a custom resource, log exports, monitoring and alarms.
// Nothing reaches it until granted with Connections().
type ApimDatabase struct {
	constructs.Construct
	instance  awsrds.DatabaseInstance
	replicas  []awsrds.DatabaseInstanceReadReplica
	conns     awsec2.Connections
	appUser   string
	appSecret awsrds.DatabaseSecret
	key       awskms.IKey
	schema    awscdk.CustomResource
	alarms    []awscloudwatch.Alarm
	region    string // the stack's region, when known at synth
	verify    bool   // clients verify the server's certificate against the region's RDS roots
}

// databaseRoots are the PEM roots a client of d should verify its certificate against, or nil
// when d's clients do not verify (VerifyServerCertificate false, or a region whose roots are not
// embedded or not known at synth).
func (d *ApimDatabase) databaseRoots() []byte {
	if !d.verify || d.region == "" {
		return nil
	}
	// The instance's certificate comes from the CA it is pinned to (CaCertificate below).
	return rdsca.RegionPEM(d.region, rdsca.RSA2048G1)
}

const databaseName = "ApimDatabase"

// Defaults of ApimDatabaseProps.
const (
	DefaultAllocatedStorageGiB    = 100
	DefaultMaxAllocatedStorageGiB = 500
	DefaultBackupRetentionDays    = 7
	DefaultMaxConnections         = 600
	DefaultAppUsername            = "wso2apim"
	// MasterUsername is the RDS master user; not "admin", which AWS Control Tower (CT.RDS.PR.22)
	// refuses as a guessable default.
	MasterUsername  = "apim_master"
	MaxReadReplicas = 5
)

// DefaultMysqlVersion is the engine version used when none is given: the newest MySQL 8.0 that
// aws-cdk-lib knows.
func DefaultMysqlVersion() awsrds.MysqlEngineVersion { return awsrds.MysqlEngineVersion_VER_8_0_46() }

// logExports are every log MySQL on RDS can export (AWS Control Tower CT.RDS.PR.14 asks for all).
var logExports = []string{"audit", "error", "general", "slowquery"}

var dbUsername = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

type databaseConfig struct {
	instanceType, replicaType awsec2.InstanceType
	storage, maxStorage       float64
	retentionDays             float64
	maxConnections            float64
	replicas                  int
	appUser                   string
	removal                   awscdk.RemovalPolicy
	tls                       string // the schema function's TLS mode
}

func resolveDatabase(props *ApimDatabaseProps) databaseConfig {
	if props == nil || props.Network == nil {
		propsError(databaseName, "Network is required: pass the ApimNetwork whose data tier holds the database")
	}
	if !props.Network.HasTier(TierData) || !props.Network.HasTier(TierApplication) {
		propsError(databaseName, "Network has no data or application subnets: the database needs the data tier, its schema function the application tier")
	}
	c := databaseConfig{
		instanceType:   props.InstanceType,
		storage:        DefaultAllocatedStorageGiB,
		maxStorage:     DefaultMaxAllocatedStorageGiB,
		retentionDays:  DefaultBackupRetentionDays,
		maxConnections: DefaultMaxConnections,
		appUser:        DefaultAppUsername,
		removal:        awscdk.RemovalPolicy_SNAPSHOT,
	}
	if c.instanceType == nil {
		c.instanceType = awsec2.InstanceType_Of(awsec2.InstanceClass_M7G, awsec2.InstanceSize_LARGE)
	}
	c.replicaType = props.ReplicaInstanceType
	if c.replicaType == nil {
		c.replicaType = c.instanceType
	}
	checkInstanceType(databaseName, "InstanceType", c.instanceType)
	checkInstanceType(databaseName, "ReplicaInstanceType", c.replicaType)
	if props.AllocatedStorageGiB != nil {
		c.storage = *props.AllocatedStorageGiB
	}
	if props.MaxAllocatedStorageGiB != nil {
		c.maxStorage = *props.MaxAllocatedStorageGiB
	}
	if c.storage < 20 || c.storage > 65536 {
		propsError(databaseName, "AllocatedStorageGiB %v is outside what RDS MySQL accepts for gp3: use 20 to 65536", c.storage)
	}
	if c.maxStorage < c.storage {
		propsError(databaseName, "MaxAllocatedStorageGiB %v is below AllocatedStorageGiB %v: storage autoscaling needs room above the initial size", c.maxStorage, c.storage)
	}
	if c.maxStorage*10 < c.storage*11 { // in whole numbers: 1.1*100 is not 110 in floating point
		propsError(databaseName, "MaxAllocatedStorageGiB %v is less than 10%% above AllocatedStorageGiB %v, which RDS refuses for storage autoscaling", c.maxStorage, c.storage)
	}
	if props.ReadReplicas != nil {
		c.replicas = int(*props.ReadReplicas)
		if float64(c.replicas) != *props.ReadReplicas || c.replicas < 0 || c.replicas > MaxReadReplicas {
			propsError(databaseName, "ReadReplicas %v must be a whole number from 0 to %d", *props.ReadReplicas, MaxReadReplicas)
		}
	}
	if props.BackupRetention != nil {
		c.retentionDays = *props.BackupRetention.ToHours(nil) / 24
		switch {
		case c.retentionDays < 1 && c.replicas > 0:
			propsError(databaseName, "ReadReplicas needs automated backups, and BackupRetention is %s: keep backups for at least 1 day", *props.BackupRetention.ToHumanString())
		case c.retentionDays < 1:
			propsError(databaseName, "BackupRetention %s is below 1 day: automated backups are what point-in-time recovery and replicas rest on; keep them 1 to 35 days", *props.BackupRetention.ToHumanString())
		case c.retentionDays > 35:
			propsError(databaseName, "BackupRetention %s is above the 35 days RDS keeps automated backups: use AWS Backup for longer retention", *props.BackupRetention.ToHumanString())
		case c.retentionDays != float64(int(c.retentionDays)):
			propsError(databaseName, "BackupRetention %s is not a whole number of days", *props.BackupRetention.ToHumanString())
		}
	}
	if props.MaxConnections != nil {
		c.maxConnections = *props.MaxConnections
		if c.maxConnections < 50 || c.maxConnections > 16000 {
			propsError(databaseName, "MaxConnections %v must be between 50 and 16000", c.maxConnections)
		}
	}
	if props.AppUsername != nil {
		c.appUser = *props.AppUsername
		if !dbUsername.MatchString(c.appUser) || strings.EqualFold(c.appUser, MasterUsername) {
			propsError(databaseName, "AppUsername %q must start with a letter, hold at most 32 letters, digits or underscores, and not be the master user %s", c.appUser, MasterUsername)
		}
	}
	switch props.RemovalPolicy {
	case "":
	case awscdk.RemovalPolicy_SNAPSHOT, awscdk.RemovalPolicy_RETAIN:
		c.removal = props.RemovalPolicy
	default:
		propsError(databaseName, "RemovalPolicy %s would delete the data with the stack: use SNAPSHOT (the default) or RETAIN", props.RemovalPolicy)
	}
	if props.Pack != nil && (props.Pack.Bucket == nil || props.Pack.Key == nil || *props.Pack.Key == "") {
		propsError(databaseName, "Pack needs both Bucket and Key (the object key of the WSO2 pack zip)")
	}
	return c
}

// schemaTLS is the schema function's TLS mode in region ("" when unknown at synth): "true"
// verifies the server's certificate against the embedded RDS roots, "skip-verify" encrypts
// without checking it.
func schemaTLS(verify *bool, region string) string {
	switch {
	case verify != nil && !*verify:
		return "skip-verify"
	case region != "" && !rdsca.Covers(region):
		if verify != nil {
			propsError(databaseName, "VerifyServerCertificate: the schema function embeds no Amazon RDS root for %s "+
				"(it has those of %s), so it could not connect; set it to false, or add the region's roots to lambda/dbinit/rdsca",
				region, strings.Join(rdsca.Regions(), ", "))
		}
		return "skip-verify"
	default:
		return "true"
	}
}

// NewApimDatabase builds the database. It panics, before adding anything to the tree, when a prop
// is invalid.
func NewApimDatabase(scope constructs.Construct, id string, props *ApimDatabaseProps) *ApimDatabase {
	cfg := resolveDatabase(props)
	region := ""
	if r := awscdk.Stack_Of(scope).Region(); !*awscdk.Token_IsUnresolved(r) {
		region = *r
	}
	cfg.tls = schemaTLS(props.VerifyServerCertificate, region)
	d := &ApimDatabase{appUser: cfg.appUser, region: region, verify: cfg.tls == "true"}
	constructs.NewConstruct_Override(d, scope, &id)
	pinFlags(d)
	switch {
	case cfg.tls != "true" && props.VerifyServerCertificate == nil:
		awscdk.Annotations_Of(d).AddWarningV2(jsii.String("apimkit:databaseCertificateNotVerified"), jsii.String(fmt.Sprintf(
			"The schema function embeds no Amazon RDS root for %s, so it and the WSO2 nodes encrypt their connections "+
				"without verifying the database's certificate. Set VerifyServerCertificate to false to acknowledge this.", region)), nil)
	case cfg.tls == "true" && d.region == "":
		awscdk.Annotations_Of(d).AddWarningV2(jsii.String("apimkit:databaseRegionUnknown"), jsii.String(
			"The stack's region is unknown at synth. The schema function will verify the database's certificate against "+
				"the Amazon RDS roots it embeds, which cover "+strings.Join(rdsca.Regions(), ", ")+" (elsewhere the schema "+
				"would fail to load), but the WSO2 nodes, which get their region's root at synth, will only encrypt. "+
				"Give the stack a region, or set VerifyServerCertificate to false."), nil)
	}
	version := props.EngineVersion
	if version == nil {
		version = DefaultMysqlVersion()
	}
	if *version.MysqlMajorVersion() == "8.0" {
		msg := "RDS for MySQL 8.0 left standard support on 31 July 2026, so this instance is enrolled in RDS Extended Support, " +
			"billed per vCPU-hour for the primary and the Multi-AZ standby. Move to MySQL 8.4 (EngineVersion) once your WSO2 " +
			"release supports it (a major-version upgrade of an existing instance is an RDS operation, not a template " +
			"change); set ExtendedSupport to true, or acknowledge this warning, to say the charge is meant."
		if props.ExtendedSupport != nil && !*props.ExtendedSupport {
			msg = "ExtendedSupport is false with MySQL 8.0, which left standard support on 31 July 2026: RDS refuses to create " +
				"such an instance, and refuses the setting on an existing one (the stack update fails). Choose EngineVersion 8.4 " +
				"for a new database (once your WSO2 release supports it)."
		}
		if props.ExtendedSupport == nil || !*props.ExtendedSupport {
			awscdk.Annotations_Of(d).AddWarningV2(jsii.String("apimkit:mysqlExtendedSupport"), jsii.String(msg), nil)
		}
	}
	stack := awscdk.Stack_Of(d)
	network := props.Network

	d.key = props.EncryptionKey
	if d.key == nil {
		d.key = newKey(d, "Key", fmt.Sprintf("Encrypts the WSO2 API Manager database %s: storage, secrets, logs, Performance Insights", *d.Node().Path()))
	}
	allowLogsToUseKey(d.key, stack)

	engine := awsrds.DatabaseInstanceEngine_Mysql(&awsrds.MySqlInstanceEngineProps{Version: version})
	parameters := awsrds.NewParameterGroup(d, jsii.String("Parameters"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String("WSO2 API Manager: TLS only, UTF-8 server default, slow-query log, connection limit"),
		Parameters: &map[string]*string{
			"require_secure_transport": jsii.String("1"),
			"character_set_server":     jsii.String("utf8mb4"),
			"collation_server":         jsii.String("utf8mb4_0900_ai_ci"),
			"max_connections":          jsii.String(fmt.Sprint(cfg.maxConnections)),
			"slow_query_log":           jsii.String("1"),
			"long_query_time":          jsii.String("2"),
			"log_output":               jsii.String("FILE"),
		},
	})

	// The audit plugin records connections and changes to schemas and privileges; the general
	// log is exported but stays off (general_log=0) unless an operator turns it on.
	options := awsrds.NewOptionGroup(d, jsii.String("Options"), &awsrds.OptionGroupProps{
		Engine:      engine,
		Description: jsii.String("WSO2 API Manager: audit connections, DDL and privilege changes"),
		Configurations: &[]*awsrds.OptionConfiguration{{
			Name: jsii.String("MARIADB_AUDIT_PLUGIN"),
			Settings: &map[string]*string{
				"SERVER_AUDIT_EVENTS": jsii.String("CONNECT,QUERY_DDL,QUERY_DCL"),
			},
		}},
	})

	sg := awsec2.NewSecurityGroup(d, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc(),
		Description:      jsii.String("WSO2 API Manager database: the MySQL port, only from what is granted"),
		AllowAllOutbound: jsii.Bool(false),
	})

	// The instance's identifier is fixed so its log groups can exist, with retention and
	// encryption, before RDS starts exporting into them.
	identifier := instanceIdentifier(stack, d)
	logs := map[string]awslogs.LogGroup{}
	logRetention := props.LogRetention
	if logRetention == "" {
		logRetention = awslogs.RetentionDays_ONE_YEAR
	}
	for _, kind := range logExports {
		logs[kind] = awslogs.NewLogGroup(d, jsii.String(strings.ToUpper(kind[:1])+kind[1:]+"Log"), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String(fmt.Sprintf("/aws/rds/instance/%s/%s", identifier, kind)),
			Retention:     logRetention,
			EncryptionKey: d.key,
			// Kept when the stack is deleted or the group replaced; removed when the stack's
			// first create fails, or its fixed name would block the next try.
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
		})
	}

	port := float64(network.DatabasePort())
	// Grants name the port literally, so templates (and the reachability model) show it.
	d.conns = awsec2.NewConnections(&awsec2.ConnectionsProps{
		SecurityGroups: &[]awsec2.ISecurityGroup{sg},
		DefaultPort:    awsec2.Port_Tcp(jsii.Number(port)),
	})
	// RDS takes the lifecycle setting at create time only, and enrols by default: only an
	// explicit false goes into the template, so true changes nothing on an existing instance.
	var lifecycle awsrds.EngineLifecycleSupport
	if props.ExtendedSupport != nil && !*props.ExtendedSupport {
		lifecycle = awsrds.EngineLifecycleSupport_OPEN_SOURCE_RDS_EXTENDED_SUPPORT_DISABLED
	}
	d.instance = awsrds.NewDatabaseInstance(d, jsii.String("Resource"), &awsrds.DatabaseInstanceProps{
		Engine:                          engine,
		EngineLifecycleSupport:          lifecycle,
		InstanceIdentifier:              jsii.String(identifier),
		InstanceType:                    cfg.instanceType,
		Vpc:                             network.Vpc(),
		VpcSubnets:                      network.Subnets(TierData),
		SecurityGroups:                  &[]awsec2.ISecurityGroup{sg},
		Port:                            jsii.Number(port),
		PubliclyAccessible:              jsii.Bool(false),
		MultiAz:                         jsii.Bool(props.MultiAz == nil || *props.MultiAz),
		StorageType:                     awsrds.StorageType_GP3,
		AllocatedStorage:                jsii.Number(cfg.storage),
		MaxAllocatedStorage:             jsii.Number(cfg.maxStorage),
		StorageEncrypted:                jsii.Bool(true),
		StorageEncryptionKey:            d.key,
		Credentials:                     awsrds.Credentials_FromUsername(jsii.String(MasterUsername), &awsrds.CredentialsFromUsernameOptions{EncryptionKey: d.key}),
		IamAuthentication:               jsii.Bool(true),
		OptionGroup:                     options,
		ManageMasterUserPassword:        jsii.Bool(true),
		BackupRetention:                 awscdk.Duration_Days(jsii.Number(cfg.retentionDays)),
		DeleteAutomatedBackups:          jsii.Bool(false),
		CopyTagsToSnapshot:              jsii.Bool(true),
		DeletionProtection:              jsii.Bool(props.DeletionProtection == nil || *props.DeletionProtection),
		RemovalPolicy:                   cfg.removal,
		ParameterGroup:                  parameters,
		AutoMinorVersionUpgrade:         jsii.Bool(true),
		CloudwatchLogsExports:           jsii.Strings(logExports...),
		MonitoringInterval:              awscdk.Duration_Seconds(jsii.Number(60)),
		EnablePerformanceInsights:       jsii.Bool(true),
		PerformanceInsightEncryptionKey: d.key,
		// Named rather than left to the RDS default: the schema function trusts this root, and
		// the nodes trust only this one (databaseRoots).
		CaCertificate: awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
	})
	for _, lg := range logs {
		d.instance.Node().AddDependency(lg)
	}

	d.appSecret = awsrds.NewDatabaseSecret(d, jsii.String("AppSecret"), &awsrds.DatabaseSecretProps{
		Username:      jsii.String(cfg.appUser),
		EncryptionKey: d.key,
	})
	// The snapshot a removed database leaves holds this user with this password.
	d.appSecret.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	d.appSecret.Attach(d.instance)

	for i := range cfg.replicas {
		replica := awsrds.NewDatabaseInstanceReadReplica(d, jsii.String(fmt.Sprintf("Replica%d", i+1)), &awsrds.DatabaseInstanceReadReplicaProps{
			SourceDatabaseInstance: d.instance,
			InstanceType:           cfg.replicaType,
			// A replica stays up in a zone failure as the primary does.
			MultiAz:                         jsii.Bool(props.MultiAz == nil || *props.MultiAz),
			Vpc:                             network.Vpc(),
			VpcSubnets:                      network.Subnets(TierData),
			SecurityGroups:                  &[]awsec2.ISecurityGroup{sg},
			ParameterGroup:                  parameters,
			AutoMinorVersionUpgrade:         jsii.Bool(true),
			MonitoringInterval:              awscdk.Duration_Seconds(jsii.Number(60)),
			EnablePerformanceInsights:       jsii.Bool(true),
			PerformanceInsightEncryptionKey: d.key,
			CaCertificate:                   awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
			DeletionProtection:              jsii.Bool(props.DeletionProtection == nil || *props.DeletionProtection),
			// A replica is a copy of the primary, whose own removal policy keeps the data.
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		d.replicas = append(d.replicas, replica)
	}

	d.addSchema(props, cfg)
	d.addAlarms(props, cfg)
	d.suppressFindings()
	weakenReferences(d)
	return d
}

// instanceIdentifier derives a stable, account-unique RDS identifier from the stack name and the
// construct path: lower case, at most 63 characters, starting with a letter.
func instanceIdentifier(stack awscdk.Stack, d constructs.Construct) string {
	inStack := strings.TrimPrefix(*d.Node().Path(), *stack.Node().Path()+"/")
	raw := strings.ToLower(*stack.StackName() + "-" + strings.ReplaceAll(inStack, "/", "-"))
	var b strings.Builder
	dash := false
	for _, r := range raw {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.Trim(b.String(), "-")
	if len(id) > 55 {
		id = strings.Trim(id[:55], "-")
	}
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		id = "db-" + id
	}
	return id
}

// addSchema adds the custom resource that creates the databases and the WSO2 user and loads the
// schema, and the Go function behind it, in the application tier.
func (d *ApimDatabase) addSchema(props *ApimDatabaseProps, cfg databaseConfig) {
	network := props.Network
	fnSg := awsec2.NewSecurityGroup(d, jsii.String("SchemaFunctionSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              network.Vpc(),
		Description:      jsii.String("WSO2 schema function: the database, and HTTPS to Secrets Manager and S3"),
		AllowAllOutbound: jsii.Bool(false),
	})
	fnSg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to Secrets Manager, S3 and CloudFormation (NAT gateway or endpoints)"), jsii.Bool(false))
	d.conns.AllowDefaultPortFrom(fnSg, jsii.String("WSO2 schema function"))

	logGroup := awslogs.NewLogGroup(d, jsii.String("SchemaFunctionLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		EncryptionKey: d.key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	fn := awslambda.NewFunction(d, jsii.String("SchemaFunction"), &awslambda.FunctionProps{
		Description:                  jsii.String("Creates the WSO2 databases and user, loads the schema from the pack; never drops anything"),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         goLambdaCode("dbinit"),
		MemorySize:                   jsii.Number(1024),
		EphemeralStorageSize:         awscdk.Size_Gibibytes(jsii.Number(4)),
		Timeout:                      awscdk.Duration_Minutes(jsii.Number(10)),
		Vpc:                          network.Vpc(),
		VpcSubnets:                   network.Subnets(TierApplication),
		SecurityGroups:               &[]awsec2.ISecurityGroup{fnSg},
		LogGroup:                     logGroup,
		ReservedConcurrentExecutions: jsii.Number(1),
	})
	// Both secrets, under the database's key, decrypted through Secrets Manager only.
	d.GrantReadSecret(fn, d.instance.Secret())
	d.GrantReadAppSecret(fn)

	properties := map[string]any{
		"Endpoint":        d.instance.DbInstanceEndpointAddress(),
		"Port":            d.instance.DbInstanceEndpointPort(),
		"MasterSecretArn": d.instance.Secret().SecretArn(),
		"AppSecretArn":    d.appSecret.SecretArn(),
		// The server refuses plain text; "true" also verifies its certificate (see schemaTLS).
		"Tls": cfg.tls,
		"Databases": []map[string]string{
			// WSO2 documents that apim_db needs the latin1 character set on MySQL 8.0, or some
			// of its indexes exceed the key length limit (error 1071).
			{"Name": profiles.ApimDb, "Charset": "latin1", "Script": "dbscripts/apimgt/mysql.sql"},
			{"Name": profiles.SharedDb, "Charset": "utf8mb4", "Script": "dbscripts/mysql.sql"},
		},
	}
	if props.AppPasswordRevision != nil {
		// Read by nobody: a new value is what makes CloudFormation run the function again.
		properties["AppPasswordRevision"] = *props.AppPasswordRevision
	}
	if props.Pack != nil {
		// The one object the function reads (GetObject also answers its HeadObject), and its
		// key through S3 when the bucket has one.
		grantObjectRead(fn, props.Pack.Bucket, *props.Pack.Key)
		// Listing that one key lets S3 answer a wrong key with NoSuchKey rather than AccessDenied.
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("s3:ListBucket"),
			Resources:  jsii.Strings(*props.Pack.Bucket.BucketArn()),
			Conditions: &map[string]any{"StringEquals": map[string]any{"s3:prefix": *props.Pack.Key}},
		}))
		properties["PackBucket"] = props.Pack.Bucket.BucketName()
		properties["PackKey"] = *props.Pack.Key
	}
	d.schema = awscdk.NewCustomResource(d, jsii.String("Schema"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		ResourceType: jsii.String("Custom::Wso2Schema"),
		Properties:   &properties,
		// The handler never drops anything; removing the resource only forgets it.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// The function must reach the database before the resource calls it.
	for _, g := range *d.conns.SecurityGroups() {
		d.schema.Node().AddDependency(g)
	}
	d.schema.Node().AddDependency(fn)

	cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{
		vpcFunctionPolicies(),
	}, jsii.Bool(true))
}

// addAlarms watches what an operator must act on: CPU, free storage, connections near the limit,
// and replica lag.
func (d *ApimDatabase) addAlarms(props *ApimDatabaseProps, cfg databaseConfig) {
	add := func(id string, metric awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator, desc string) {
		alarm := awscloudwatch.NewAlarm(d, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: op,
			EvaluationPeriods:  jsii.Number(3),
			DatapointsToAlarm:  jsii.Number(3),
			TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
			AlarmDescription:   jsii.String(desc),
		})
		if props.AlarmTopic != nil {
			action := awscloudwatchactions.NewSnsAction(props.AlarmTopic)
			alarm.AddAlarmAction(action)
			alarm.AddOkAction(action)
		}
		d.alarms = append(d.alarms, alarm)
	}
	period := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))}
	add("CpuAlarm", d.instance.MetricCPUUtilization(period), 80, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		"WSO2 database CPU above 80% for 15 minutes")
	freeBytes := cfg.storage * 0.1 * 1024 * 1024 * 1024
	add("FreeStorageAlarm", d.instance.MetricFreeStorageSpace(period), freeBytes, awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		"WSO2 database free storage below 10% of the allocated size for 15 minutes (autoscaling may be at its bound)")
	add("ConnectionsAlarm", d.instance.MetricDatabaseConnections(period), cfg.maxConnections*0.8, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		"WSO2 database connections above 80% of max_connections for 15 minutes")
	for i, r := range d.replicas {
		lag := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/RDS"),
			MetricName:    jsii.String("ReplicaLag"),
			DimensionsMap: &map[string]*string{"DBInstanceIdentifier": r.InstanceIdentifier()},
			Statistic:     jsii.String("Maximum"),
			Period:        awscdk.Duration_Minutes(jsii.Number(5)),
		})
		add(fmt.Sprintf("Replica%dLagAlarm", i+1), lag, 60, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			"WSO2 database read replica more than 60 seconds behind for 15 minutes")
	}
}

func (d *ApimDatabase) suppressFindings() {
	cdknag.NagSuppressions_AddResourceSuppressions(d, &[]*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-RDS11"),
			Reason: jsii.String("WSO2 and the network ACLs use the configured MySQL port; a non-default port hides " +
				"nothing from a client the security group already admits."),
		},
		{
			Id: jsii.String("AwsSolutions-SMG4"),
			Reason: jsii.String("The master password is managed and rotated by RDS. The WSO2 user's password is read by " +
				"the nodes at boot; rotating it under running nodes breaks them, so it is rotated by updating the " +
				"secret, deploying with a new AppPasswordRevision (the schema function then resets the password) and " +
				"refreshing the instances."),
		},
	}, jsii.Bool(true))
	monitoring := []*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM4"),
		Reason: jsii.String("Enhanced monitoring runs with AmazonRDSEnhancedMonitoringRole, the AWS-managed policy RDS " +
			"documents for its monitoring role."),
		AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"},
	}}
	cdknag.NagSuppressions_AddResourceSuppressions(d.instance, &monitoring, jsii.Bool(true))
	// Each replica has a monitoring role of its own, with the same policy. Its storage is
	// encrypted with the primary's key, which RDS gives every replica of an encrypted primary in
	// its region; the template cannot say so (CloudFormation refuses StorageEncrypted beside
	// SourceDBInstanceIdentifier, and the synth's CloudFormation validation says so), so cdk-nag's RDS2
	// cannot see it.
	replica := append(monitoring, &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-RDS2"),
		Reason: jsii.String("A read replica of an encrypted primary in the same region is encrypted by RDS with the " +
			"primary's key; CloudFormation refuses StorageEncrypted on a replica, so the template cannot show it."),
	})
	for _, r := range d.replicas {
		cdknag.NagSuppressions_AddResourceSuppressions(r, &replica, jsii.Bool(true))
	}
}

// Connections lets callers grant access to the database port: db.Connections().AllowDefaultPortFrom(x).
// Nothing else reaches it.
func (d *ApimDatabase) Connections() awsec2.Connections { return d.conns }

// Instance returns the primary RDS instance.
func (d *ApimDatabase) Instance() awsrds.IDatabaseInstance { return d.instance }

// Replicas returns the read replicas, in order.
func (d *ApimDatabase) Replicas() []awsrds.IDatabaseInstance {
	out := make([]awsrds.IDatabaseInstance, 0, len(d.replicas))
	for _, r := range d.replicas {
		out = append(out, r)
	}
	return out
}

// Endpoint returns the primary's host name and port (tokens resolved at deploy time).
func (d *ApimDatabase) Endpoint() (host, port *string) {
	return d.instance.DbInstanceEndpointAddress(), d.instance.DbInstanceEndpointPort()
}

// MasterSecret returns the RDS-managed secret of the master user.
func (d *ApimDatabase) MasterSecret() awssecretsmanager.ISecret { return d.instance.Secret() }

// AppSecret returns the secret of the WSO2 application user (username, password, host, port).
func (d *ApimDatabase) AppSecret() awssecretsmanager.ISecret { return d.appSecret }

// GrantReadAppSecret lets grantee (a WSO2 node's role) read the application user's secret and
// decrypt it.
func (d *ApimDatabase) GrantReadAppSecret(grantee awsiam.IGrantable) awsiam.Grant {
	return grantSecretRead(grantee, d.appSecret, d.key)
}

// GrantReadSecret lets grantee read another secret, such as the admin secret, and decrypt it with
// the secret's own key (secret.EncryptionKey()), on the grantee's policy alone. A secret that
// names no key (imported by name or ARN alone) is taken to be under the database's key, as
// NewAdminSecret makes it; import one under another key with
// awssecretsmanager.Secret_FromSecretAttributes and its EncryptionKey.
func (d *ApimDatabase) GrantReadSecret(grantee awsiam.IGrantable, secret awssecretsmanager.ISecret) awsiam.Grant {
	key := secret.EncryptionKey()
	if key == nil {
		key = d.key
	}
	return grantSecretRead(grantee, secret, key)
}

// AppUsername returns the WSO2 application user's name.
func (d *ApimDatabase) AppUsername() string { return d.appUser }

// EncryptionKey returns the key that encrypts the database, its secrets and logs.
func (d *ApimDatabase) EncryptionKey() awskms.IKey { return d.key }

// Alarms returns the database's alarms.
func (d *ApimDatabase) Alarms() []awscloudwatch.Alarm { return d.alarms }
