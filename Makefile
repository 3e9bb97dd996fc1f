# Lambda build targets for `sam build`. The functions in template.yaml have
# `Metadata: BuildMethod: makefile`, so SAM runs `make build-<LogicalId>` in a
# copy of CodeUri (the repository root) with ARTIFACTS_DIR set to the directory
# that becomes the deployment package.
#
# To build by hand:
#   make build-AuthorizerFunction ARTIFACTS_DIR=/tmp/artifacts
#
# Both packages hold the crlcheck package, its runtime dependencies
# (cryptography, orjson and their dependencies), and the handler module
# (lambdas/<name>.py at the top level, so the handler is <name>.handler).
# boto3 is not bundled: the python3.12 Lambda runtime provides it, and crlcheck
# needs it only through the optional [aws] extra.

PYTHON ?= python3

# What the functions run on: CPython 3.12 on arm64 (Graviton), Amazon Linux 2023.
LAMBDA_PYTHON_VERSION ?= 3.12
LAMBDA_PLATFORM ?= manylinux2014_aarch64

# --platform/--python-version/--implementation make pip resolve for the Lambda
# runtime, not for the build machine, and --only-binary=:all: takes only
# prebuilt wheels from the index, so nothing is compiled for the wrong
# platform. The local crlcheck project is pure Python, and pip builds it into a
# py3-none-any wheel even under --only-binary=:all: (checked with pip 23.2.1
# and 26.3). So a single install resolves crlcheck's dependencies from its own
# metadata (pyproject.toml), with no second requirements list to keep in sync.
# --no-compile: .pyc files written by the build machine's Python (not 3.12)
# would be dead weight in the package.
PIP_INSTALL = $(PYTHON) -m pip install \
	--disable-pip-version-check --no-input --no-compile --upgrade \
	--platform $(LAMBDA_PLATFORM) \
	--implementation cp \
	--python-version $(LAMBDA_PYTHON_VERSION) \
	--only-binary=:all:

.PHONY: build-PreprocessorFunction build-AuthorizerFunction

# The preprocessor bundles boto3 (the [aws] extra): it publishes with conditional PutObject
# (If-Match / If-None-Match), which needs botocore >= 1.35.69, newer than some runtime images.
# The authorizer only needs GetObject and uses the runtime's boto3.
build-PreprocessorFunction:
	$(call lambda_package,preprocessor,[aws])

build-AuthorizerFunction:
	$(call lambda_package,authorizer,)

# $(1): handler module name in lambdas/ (without .py); $(2): extras to install, e.g. [aws].
# pip builds the project from a temporary copy, so that setuptools' build/ and
# *.egg-info never land in the working tree (which matters for
# `sam build --build-in-source` and for builds by hand).
define lambda_package
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set" >&2; exit 1; }
	@test -f lambdas/$(1).py || { echo "lambdas/$(1).py not found" >&2; exit 1; }
	set -eu; \
	src="$$(mktemp -d)"; \
	trap 'rm -rf "$$src"' EXIT; \
	cp -R pyproject.toml crlcheck "$$src/"; \
	for f in README.md README.rst LICENSE LICENSE.txt NOTICE; do \
		if [ -e "$$f" ]; then cp "$$f" "$$src/"; fi; \
	done; \
	rm -rf "$$src/crlcheck/__pycache__"; \
	$(PIP_INSTALL) --target "$(ARTIFACTS_DIR)" "$$src$(2)"
	rm -rf "$(ARTIFACTS_DIR)/bin"
	cp lambdas/$(1).py "$(ARTIFACTS_DIR)/"
endef
