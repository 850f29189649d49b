package policy

// Expiration bases: the event a policy's duration counts from.
const (
	FromCreation        = "FROM_CREATION"
	FromFirstValidation = "FROM_FIRST_VALIDATION"
	FromFirstActivation = "FROM_FIRST_ACTIVATION"
	FromFirstDownload   = "FROM_FIRST_DOWNLOAD"
	FromFirstUse        = "FROM_FIRST_USE"
)

// Heartbeat bases.
const (
	HeartbeatFromFirstPing = "FROM_FIRST_PING"
	HeartbeatFromCreation  = "FROM_CREATION"
)

// Heartbeat cull strategies.
const (
	DeactivateDead = "DEACTIVATE_DEAD"
	KeepDead       = "KEEP_DEAD"
)

// Heartbeat resurrection strategies (the N_MINUTE_REVIVE windows are read
// by their number).
const (
	NoRevive     = "NO_REVIVE"
	AlwaysRevive = "ALWAYS_REVIVE"
)

// Uniqueness strategies of machines and components, loosest first.
const (
	UniquePerMachine = "UNIQUE_PER_MACHINE"
	UniquePerLicense = "UNIQUE_PER_LICENSE"
	UniquePerPolicy  = "UNIQUE_PER_POLICY"
	UniquePerProduct = "UNIQUE_PER_PRODUCT"
	UniquePerAccount = "UNIQUE_PER_ACCOUNT"
)

// Matching strategies of machine and component fingerprints.
const (
	MatchAny  = "MATCH_ANY"
	MatchTwo  = "MATCH_TWO"
	MatchMost = "MATCH_MOST"
	MatchAll  = "MATCH_ALL"
)

// Renewal bases.
const (
	RenewFromExpiry       = "FROM_EXPIRY"
	RenewFromNow          = "FROM_NOW"
	RenewFromNowIfExpired = "FROM_NOW_IF_EXPIRED"
)

// Transfer strategies.
const (
	KeepExpiry  = "KEEP_EXPIRY"
	ResetExpiry = "RESET_EXPIRY"
)

// Authentication strategies: what a license may authenticate with.
const (
	AuthToken   = "TOKEN"
	AuthLicense = "LICENSE"
	AuthMixed   = "MIXED"
	AuthNone    = "NONE"
)

// Leasing strategies: what machine and process limits count per.
const (
	PerMachine = "PER_MACHINE"
	PerLicense = "PER_LICENSE"
	PerUser    = "PER_USER"
)

// Overage strategies.
const (
	NoOverage          = "NO_OVERAGE"
	AlwaysAllowOverage = "ALWAYS_ALLOW_OVERAGE"
	Allow125xOverage   = "ALLOW_1_25X_OVERAGE"
	Allow15xOverage    = "ALLOW_1_5X_OVERAGE"
	Allow2xOverage     = "ALLOW_2X_OVERAGE"
)
