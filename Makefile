# `sam build` runs `make build-<LogicalId>` for each function in template.yaml, with ARTIFACTS_DIR
# set to .aws-sam/build/<LogicalId>. Every target first runs the same workspace build: the first
# one compiles and links all the Lambda binaries, the later ones find them up to date. Then each
# copies its own binary. The build runs here, where this Makefile is, even when SAM runs make in
# a copy of the workspace (samconfig.toml sets build_in_source so that it does not copy).

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
CARGO ?= cargo
LAMBDA_DIR ?= $(abspath $(or $(CARGO_TARGET_DIR),$(ROOT)/target)/lambda)

# Position-dependent executables: no dynamic relocations to apply at start (about 1.8 MB of
# them, and the pages they touch), so a smaller binary and a shorter cold start. Only the
# functions get it: `cargo lambda build` names its target, so build scripts and proc macros
# (shared objects) are built without it. BENCHMARKS.md, *Cold start*, measures it.
LAMBDA_RUSTFLAGS ?= -C link-arg=-no-pie

# The binary of each function (template.yaml logical id).
build-GhlNewContactFunction:                 BIN := ghl-new-contact
build-GhlNewTagFunction:                     BIN := ghl-new-tag
build-GhlNewNoteFunction:                    BIN := ghl-new-note
build-GhlPipelineChangeFunction:             BIN := ghl-pipeline-change
build-GhlStatusChangeFunction:               BIN := ghl-status-change
build-GhlDndChangeFunction:                  BIN := ghl-dnd-change
build-GhlSmsDeliveryFunction:                BIN := ghl-sms-delivery
build-CloudTalkCallStartedFunction:          BIN := cloudtalk-call-started
build-CloudTalkCallEndedFunction:            BIN := cloudtalk-call-ended
build-CloudTalkCallModifiedFunction:         BIN := cloudtalk-call-modified
build-CloudTalkRecordingAvailableFunction:   BIN := cloudtalk-recording-available
build-CloudTalkAgentStatusChangeFunction:    BIN := cloudtalk-agent-status-change
build-CloudTalkContactCreatedFunction:       BIN := cloudtalk-contact-created
build-CloudTalkCampaignStatusChangeFunction: BIN := cloudtalk-campaign-status-change
build-CloudTalkGenericFunction:              BIN := cloudtalk-generic
build-CloudTalkSmsReceivedFunction:          BIN := cloudtalk-sms-received
build-RetryWorkerFunction:                   BIN := retry-worker
build-ReconcileFunction:                     BIN := reconcile
build-GhlAppInstallFunction:                 BIN := ghl-app-install
build-OAuthCallbackFunction:                 BIN := oauth-callback
build-HealthFunction:                        BIN := health

build-%Function:
	$(if $(BIN),,$(error $@ names no binary: add "$@: BIN := <binary>" above))
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set; sam build sets it))
	cd "$(ROOT)" && RUSTFLAGS="$(RUSTFLAGS) $(LAMBDA_RUSTFLAGS)" $(CARGO) lambda build --release --arm64 --package functions --lambda-dir "$(LAMBDA_DIR)"
	cp "$(LAMBDA_DIR)/$(BIN)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
