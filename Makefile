# Lambda build targets for `sam build`. The functions in template.yaml have
# `Metadata: BuildMethod: makefile` and `ContextPath: .`, so SAM runs
# `make --makefile <this file> build-<LogicalId>` with ARTIFACTS_DIR set to the
# directory that becomes the deployment package.
#
# What SAM copies: before running make, SAM copies each function's CodeUri into
# a scratch directory. CodeUri is lambdas/ (two small files), not the
# repository root, so a .venv, bench/data or anything else lying in the work
# tree is never copied. This Makefile does not read the scratch copy: it finds
# the sources next to itself (ROOT below), whatever the current directory.
#
# To build by hand (from any directory):
#   make -f path/to/Makefile build-AuthorizerFunction ARTIFACTS_DIR=/tmp/artifacts
#
# Every package holds the crlcheck package, its runtime dependencies
# (cryptography, orjson and their dependencies) and the handler module
# (lambdas/<name>.py at the top level, so the handler is <name>.handler).
# The preprocessor and the fetcher also bundle boto3 (see build-PreprocessorFunction);
# the authorizer uses the boto3 of the Lambda runtime.
#
# Every third-party version is pinned by constraints/lambda.txt, so two builds
# of the same commit ship the same packages. To move to newer releases, edit
# that file (see its header) and test.

PYTHON ?= python3

# The directory of this Makefile: the repository root.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# The pins for the Lambda packages (pip -c: constrains versions, installs nothing by itself).
LAMBDA_CONSTRAINTS ?= $(ROOT)/constraints/lambda.txt

# What the functions run on: CPython 3.12 on arm64 (Graviton), Amazon Linux 2023.
LAMBDA_PYTHON_VERSION ?= 3.12
LAMBDA_PLATFORM ?= manylinux2014_aarch64

# --platform/--python-version/--implementation make pip resolve for the Lambda
# runtime, not for the build machine, and --only-binary=:all: takes only
# prebuilt wheels from the index, so nothing is compiled for the wrong
# platform. The local crlcheck project is pure Python, and pip builds it into a
# py3-none-any wheel even under --only-binary=:all: (checked with pip 23.2.1
# and 26.3). So a single install resolves crlcheck's dependencies from its own
# metadata (pyproject.toml), and -c pins the versions it picks.
# --no-compile: pip would write .pyc files for the build machine's Python, which
# the runtime ignores if its version differs; they are compiled afterwards for
# the runtime's Python instead (compile_bytecode below).
PIP_INSTALL = $(PYTHON) -m pip install \
	--disable-pip-version-check --no-input --no-compile --upgrade \
	--platform $(LAMBDA_PLATFORM) \
	--implementation cp \
	--python-version $(LAMBDA_PYTHON_VERSION) \
	--only-binary=:all: \
	-c "$(LAMBDA_CONSTRAINTS)"

# Bytecode for the runtime. Lambda's file system is read-only, so a package
# without .pyc files compiles every module it imports from source on every cold
# start (~0.13 s for the authorizer, bench/README.md). The .pyc files must be
# written by the runtime's Python version (the magic number differs between
# minor versions, and a mismatched .pyc is ignored): the first of
# LAMBDA_COMPILE_PYTHON, python$(LAMBDA_PYTHON_VERSION), a pyenv install of that
# version, or python3 that reports that version compiles the package. Without
# one, the build says so and ships the package without bytecode (which works,
# only slower to start). The .pyc files are unchecked-hash based (PEP 552): the
# runtime loads them without comparing the source's mtime (the package never
# changes under it), and two builds of the same sources write the same bytes;
# their recorded paths are /var/task/..., where Lambda puts the package.
LAMBDA_COMPILE_PYTHON ?= python$(LAMBDA_PYTHON_VERSION)
PYENV_ROOT ?= $(HOME)/.pyenv

.PHONY: build-PreprocessorFunction build-AuthorizerFunction build-FetcherFunction

# The preprocessor bundles boto3 (the [aws] extra): it publishes with conditional PutObject
# (IfMatch / IfNoneMatch), which needs botocore >= 1.35.69. The boto3 that the Lambda runtime
# ships is not a documented version (AWS says it depends on the runtime version and the Region,
# and changes when the runtime is updated), so the preprocessor brings its own, pinned by
# constraints/lambda.txt, and does not depend on it (docs/SERVERLESS.md, "The SDK in the
# packages"). Were an older botocore ever loaded, crlcheck.s3 refuses to publish unconditionally.
# The authorizer only sends GetObject with IfNoneMatch, which every boto3 supports, and uses the
# runtime's boto3: a 16 MB package instead of 49 MB, and a faster cold start.
build-PreprocessorFunction:
	$(call lambda_package,preprocessor,[aws])

build-AuthorizerFunction:
	$(call lambda_package,authorizer,)

# The fetcher (optional, template parameter FetchUrls) bundles boto3 for the same reason as the
# preprocessor: it writes CRLs with conditional PutObject (IfMatch / IfNoneMatch).
build-FetcherFunction:
	$(call lambda_package,fetcher,[aws])

# $(1): handler module name in lambdas/ (without .py); $(2): extras to install, e.g. [aws].
# pip builds the project from a temporary copy of exactly the files the package needs
# (pyproject.toml, crlcheck/, and the README and LICENSE that its metadata names), so that
# setuptools' build/ and *.egg-info never land in the working tree, and nothing else in the
# tree (a .venv, bench/data) is read. pip records that temporary directory in crlcheck's
# direct_url.json: the file and its RECORD line are dropped, so that two builds of one commit are
# byte for byte the same.
define lambda_package
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set" >&2; exit 1; }
	@test -f "$(ROOT)/lambdas/$(1).py" || { echo "$(ROOT)/lambdas/$(1).py not found" >&2; exit 1; }
	@test -f "$(LAMBDA_CONSTRAINTS)" || { echo "$(LAMBDA_CONSTRAINTS) not found" >&2; exit 1; }
	set -eu; \
	src="$$(mktemp -d)"; \
	trap 'rm -rf "$$src"' EXIT; \
	cp -R "$(ROOT)/pyproject.toml" "$(ROOT)/crlcheck" "$$src/"; \
	for f in README.md README.rst LICENSE LICENSE.txt NOTICE; do \
		if [ -e "$(ROOT)/$$f" ]; then cp "$(ROOT)/$$f" "$$src/"; fi; \
	done; \
	rm -rf "$$src/crlcheck/__pycache__"; \
	$(PIP_INSTALL) --target "$(ARTIFACTS_DIR)" "$$src$(2)"
	rm -rf "$(ARTIFACTS_DIR)/bin"
	for d in "$(ARTIFACTS_DIR)"/crlcheck-*.dist-info; do \
		rm -f "$$d/direct_url.json"; \
		sed -i.bak '/direct_url\.json/d' "$$d/RECORD" && rm -f "$$d/RECORD.bak"; \
	done
	cp "$(ROOT)/lambdas/$(1).py" "$(ARTIFACTS_DIR)/"
	$(compile_bytecode)
endef

define compile_bytecode
	@set -u; \
	found=""; \
	for candidate in "$(LAMBDA_COMPILE_PYTHON)" "python$(LAMBDA_PYTHON_VERSION)" \
			"$(PYENV_ROOT)"/versions/$(LAMBDA_PYTHON_VERSION).*/bin/python$(LAMBDA_PYTHON_VERSION) python3; do \
		version="$$("$$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" || continue; \
		if [ "$$version" = "$(LAMBDA_PYTHON_VERSION)" ]; then found="$$candidate"; break; fi; \
	done; \
	if [ -z "$$found" ]; then \
		echo "crlcheck: no Python $(LAMBDA_PYTHON_VERSION) found (set LAMBDA_COMPILE_PYTHON): the package ships without .pyc files (slower cold starts)" >&2; \
	else \
		echo "crlcheck: compiling .pyc files with $$found (Python $(LAMBDA_PYTHON_VERSION))"; \
		"$$found" -m compileall -q -j 0 --invalidation-mode unchecked-hash \
			-s "$(ARTIFACTS_DIR)" -p /var/task "$(ARTIFACTS_DIR)"; \
	fi
endef
