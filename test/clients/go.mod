module github.com/relkey/relkey/test/clients

go 1.26

require (
	github.com/keygen-sh/jsonapi-go v1.2.1
	github.com/keygen-sh/keygen-go/v2 v2.9.0
	github.com/keygen-sh/keygen-go/v3 v3.2.1
)

require (
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.1 // indirect
	github.com/keygen-sh/go-update v1.0.0 // indirect
	github.com/oasisprotocol/curve25519-voi v0.0.0-20211102120939-d5a936accd94 // indirect
	golang.org/x/crypto v0.0.0-20210813211128-0a44fdfbc16e // indirect
	golang.org/x/sys v0.0.0-20220319134239-a9b59b0215f8 // indirect
)
