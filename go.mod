module github.com/signet-dev/signet

go 1.26

require (
	github.com/godbus/dbus/v5 v5.2.2
	github.com/sassoftware/relic/v7 v7.6.2
	github.com/tc-hib/winres v0.2.1
	github.com/zalando/go-keyring v0.2.8
	golang.org/x/sys v0.27.0
	golang.org/x/term v0.16.0
	golang.org/x/text v0.14.0
	software.sslmate.com/src/go-pkcs12 v0.7.4
)

require (
	github.com/danieljoos/wincred v1.2.3 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/howeyc/gopass v0.0.0-20210920133722-c8aef6fb66ef // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/nfnt/resize v0.0.0-20180221191011-83c6a9932646 // indirect
	github.com/spf13/cobra v1.8.0 // indirect
	github.com/spf13/pflag v1.0.5 // indirect
	golang.org/x/crypto v0.18.0 // indirect
	golang.org/x/image v0.12.0 // indirect
)
