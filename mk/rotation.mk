# Rotation of the CloudFront origin secret (functions/secret-rotator). Included by the Makefile;
# the end-to-end tests also run in `make test-integ`.
.PHONY: rotate-demo test-rotation

rotate-demo: setup ## a rotation on moto: the real rotator's four steps while requests flow through a CloudFront stand-in to two authorizers, with the request counter
	cargo build --bin header-secret-authorizer --bin secret-rotator
	cargo test --workspace --test secret_rotation rotation_fails_no_request -- --nocapture

test-rotation: setup ## rotator unit tests + the end-to-end rotation on moto with each fault (conflict, throttling, killed step, refused canary)
	cargo test -p secret-rotator
	cargo build --bin header-secret-authorizer --bin secret-rotator
	cargo test --workspace --test secret_rotation -- --nocapture
