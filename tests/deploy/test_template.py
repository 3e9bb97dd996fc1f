"""template.yaml: every mode lints clean, and each mode deploys what it says.

The modes are evaluated here on the template as written (before the SAM transform), with a small
evaluator for the intrinsic functions its Conditions and Rules use (Equals, Not, Ref): enough to
tell which resources and outputs a set of parameters creates and whether the Rules accept them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
TEMPLATE = ROOT / "template.yaml"

cfn_yaml = pytest.importorskip("cfnlint.decode.cfn_yaml", reason="cfn-lint (the dev extra)")

EXAMPLE_API = {
    "DeployExampleApi": "true",
    "DomainName": "api.example.com",
    "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0123abcd",
    "TruststoreBucket": "example-truststores",
}
EXISTING_API = {
    "AuthorizerSourceArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/authorizers/*",
    "AuthorizerResponseFormat": "simple",
    "TruststoreBucket": "example-truststores",
    "AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops",
    "AuthorizerReservedConcurrency": "50",
    "BucketName": "old-stack-crl-123456789012-eu-west-1",
}
FETCHER = {
    "FetchUrls": "http://pki.example.com/ca.crl,http://pki.example.com/CertEnroll/Issuing%20CA.crl",
    "FetchSchedule": "cron(0/10 * * * ? *)",
    "DocumentPrefix": "crl/",
}
SNAPSTART = {**EXAMPLE_API, "SnapStart": "true"}
PRIVATE_CA = {
    "DocumentPrefix": "crl/",
    "PrivateCaArn": "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0123abcd-0000",
    "ChainKey": "truststore/truststore.pem",
    "DocumentFormat": "binary",
}
MODES = {
    "minimal": {},
    "existing-api": EXISTING_API,
    "example-api": EXAMPLE_API,
    "fetcher": FETCHER,
    "snapstart": SNAPSTART,
    "private-ca": PRIVATE_CA,
}

CORE = {
    "CrlBucket",
    "CrlBucketPolicy",
    "PreprocessorLogGroup",
    "PreprocessorFailedEventsQueue",
    "PreprocessorFunction",
    "PreprocessorS3Policy",
    "AuthorizerLogGroup",
    "AuthorizerFunction",
    "CrlAgeAlarm",
    "AuthorizerCrlStaleAlarm",
    "AuthorizerStoreUnavailableAlarm",
    "AuthorizerInternalErrorAlarm",
    "PreprocessorRefusedAlarm",
    "PreprocessorFailedEventsAlarm",
}
DEMO = {"MtlsApi", "HelloLogGroup", "HelloFunction"}
FETCHER_RESOURCES = {"FetcherLogGroup", "FetcherFunction", "FetcherErrorsAlarm"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(TEMPLATE))
    return loaded


def _parameters(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, str]:
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    unknown = set(overrides) - set(values)
    assert not unknown, unknown
    values.update(overrides)
    return values


def _evaluate(expr: Any, params: dict[str, str], conditions: dict[str, Any]) -> Any:
    if not isinstance(expr, dict):
        return expr
    ((fn, arg),) = expr.items()
    if fn == "Ref":
        return params[arg]
    if fn == "Fn::Equals":
        left, right = (_evaluate(a, params, conditions) for a in arg)
        return str(left) == str(right)
    if fn == "Fn::Not":
        return not _evaluate(arg[0], params, conditions)
    if fn == "Condition":
        return _evaluate(conditions[arg], params, conditions)
    raise AssertionError(f"the test's evaluator does not know {fn}")


def _mode(template: dict[str, Any], overrides: dict[str, str]) -> tuple[set[str], set[str]]:
    """The resources and outputs that these parameters create."""
    params = _parameters(template, overrides)
    conditions = template["Conditions"]

    def holds(section: dict[str, Any]) -> bool:
        name = section.get("Condition")
        return name is None or bool(_evaluate(conditions[name], params, conditions))

    resources = {name for name, r in template["Resources"].items() if holds(r)}
    outputs = {name for name, o in template["Outputs"].items() if holds(o)}
    return resources, outputs


def _rule_failures(template: dict[str, Any], overrides: dict[str, str]) -> list[str]:
    params = _parameters(template, overrides)
    failures = []
    for rule in template["Rules"].values():
        if not _evaluate(rule["RuleCondition"], params, {}):
            continue
        for assertion in rule["Assertions"]:
            if not _evaluate(assertion["Assert"], params, {}):
                failures.append(assertion["AssertDescription"])
    return failures


# --- negative cases first ------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["DomainName", "CertificateArn", "TruststoreBucket"])
def test_the_example_api_is_refused_without_its_domain_settings(
    template: dict[str, Any], missing: str
) -> None:
    failures = _rule_failures(template, {**EXAMPLE_API, missing: ""})
    assert len(failures) == 1
    assert missing in failures[0]


def test_the_minimal_mode_needs_no_domain_settings(template: dict[str, Any]) -> None:
    assert _rule_failures(template, {}) == []
    for name in ("DomainName", "CertificateArn", "TruststoreBucket", "TruststoreVersion"):
        assert template["Parameters"][name]["Default"] == ""


@pytest.mark.parametrize("mode", sorted(MODES))
def test_cfn_lint_passes_in_every_mode(mode: str) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        cfn_lint = Path(shutil.which("cfn-lint") or "cfn-lint")
    argv = [str(cfn_lint), str(TEMPLATE)]
    if MODES[mode]:
        argv += ["--parameters", *(f"{k}={v}" for k, v in MODES[mode].items())]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- what each mode deploys ----------------------------------------------------------------


def test_the_default_mode_deploys_the_bucket_the_functions_and_the_alarms_only(
    template: dict[str, Any],
) -> None:
    resources, outputs = _mode(template, {})
    assert resources == CORE
    assert {"AuthorizerFunctionArn", "AuthorizerUri", "CrlBucketName"} <= outputs
    assert not outputs & {"ApiDomainName", "ApiUrl"}


def test_an_existing_api_gets_an_invoke_permission_when_its_arn_is_given(
    template: dict[str, Any],
) -> None:
    resources, _ = _mode(template, EXISTING_API)
    assert resources == CORE | {"AuthorizerInvokePermission"}
    permission = template["Resources"]["AuthorizerInvokePermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"] == {"Ref": "AuthorizerSourceArn"}


def test_the_example_api_mode_adds_the_api_and_its_outputs(template: dict[str, Any]) -> None:
    resources, outputs = _mode(template, EXAMPLE_API)
    assert resources == CORE | DEMO
    assert {"ApiDomainName", "ApiUrl", "AuthorizerFunctionArn"} <= outputs


def test_the_fetcher_mode_adds_the_fetcher_its_log_group_and_alarm(
    template: dict[str, Any],
) -> None:
    resources, outputs = _mode(template, FETCHER)
    assert resources == CORE | FETCHER_RESOURCES
    assert "FetcherFunctionArn" in outputs
    assert "FetcherFunctionArn" not in _mode(template, {})[1]


def test_the_fetcher_runs_on_its_schedule_without_retries(template: dict[str, Any]) -> None:
    assert template["Parameters"]["FetchSchedule"]["Default"] == "rate(15 minutes)"
    properties = template["Resources"]["FetcherFunction"]["Properties"]
    (event,) = properties["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Ref": "FetchSchedule"}
    assert properties["EventInvokeConfig"] == {"MaximumRetryAttempts": 0}
    alarm = template["Resources"]["FetcherErrorsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "FetcherFunction"}}]


def test_the_fetcher_may_only_read_and_write_crls_under_its_prefix(
    template: dict[str, Any],
) -> None:
    """The prefix it writes to and the prefix its policy grants are the same expression, and
    what it writes ends in .crl, so the preprocessor's S3 trigger picks it up."""
    properties = template["Resources"]["FetcherFunction"]["Properties"]
    prefix = properties["Environment"]["Variables"]["CRLCHECK_FETCH_PREFIX"]
    assert prefix == {"Fn::If": ["HasDocumentPrefix", {"Ref": "DocumentPrefix"}, "crls/"]}
    ((statement,),) = [policy["Statement"] for policy in properties["Policies"]]
    assert sorted(statement["Action"]) == ["s3:GetObject", "s3:PutObject"]
    assert statement["Resource"] == {
        "Fn::Sub": ["${CrlBucket.Arn}/${Prefix}*.crl", {"Prefix": prefix}]
    }
    trigger = template["Resources"]["PreprocessorFunction"]["Properties"]["Events"]
    assert trigger["CrlUploaded"]["Properties"]["Filter"]["S3Key"]["Rules"] == [
        {"Name": "suffix", "Value": ".crl"}
    ]


def test_the_example_api_keeps_authorizer_caching_off(template: dict[str, Any]) -> None:
    api = template["Resources"]["MtlsApi"]["Properties"]
    authorizer = api["Auth"]["Authorizers"]["CrlCheckAuthorizer"]
    assert authorizer["Identity"] == {"ReauthorizeEvery": 0}
    assert api["DisableExecuteApiEndpoint"] is True


def test_one_truststore_object_serves_mtls_and_the_crl_signers(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    mtls = resources["MtlsApi"]["Properties"]["Domain"]["MutualTlsAuthentication"]
    assert mtls["TruststoreUri"] == {"Fn::Sub": "s3://${TruststoreBucket}/${TruststoreKey}"}
    env = resources["PreprocessorFunction"]["Properties"]["Environment"]["Variables"]
    assert env["CRLCHECK_TRUSTSTORE_BUCKET"] == {"Ref": "TruststoreBucket"}
    assert env["CRLCHECK_TRUSTSTORE_KEY"] == {"Ref": "TruststoreKey"}
    assert "TruststoreVersion" in template["Parameters"]


def test_snapstart_is_opt_in_and_preloads_the_authorizer(template: dict[str, Any]) -> None:
    assert template["Parameters"]["SnapStart"]["Default"] == "false"
    resources = template["Resources"]
    for name in ("PreprocessorFunction", "AuthorizerFunction"):
        properties = resources[name]["Properties"]
        # SnapStart applies to published versions only: SAM publishes one under the alias.
        assert properties["AutoPublishAlias"] == "live"
        assert properties["SnapStart"] == {
            "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
        }
    env = resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["CRLCHECK_PRELOAD"] == {"Fn::If": ["UseSnapStart", "true", "false"]}
    conditions = template["Conditions"]
    for value, expected in (("false", False), ("true", True)):
        params = _parameters(template, {"SnapStart": value})
        assert _evaluate(conditions["UseSnapStart"], params, conditions) is expected
    resources_on, _ = _mode(template, SNAPSTART)
    assert resources_on == CORE | DEMO  # Nothing else to deploy.


# --- defaults a new account can deploy -----------------------------------------------------


def test_the_authorizer_reserves_no_concurrency_by_default(template: dict[str, Any]) -> None:
    assert template["Parameters"]["AuthorizerReservedConcurrency"]["Default"] == 0


def test_cloudformation_names_the_bucket_unless_told(template: dict[str, Any]) -> None:
    """A fixed name would collide with the bucket a deleted stack retained."""
    bucket = template["Resources"]["CrlBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["Properties"]["BucketName"] == {
        "Fn::If": ["HasBucketName", {"Ref": "BucketName"}, {"Ref": "AWS::NoValue"}]
    }
    assert template["Parameters"]["BucketName"]["Default"] == ""


def test_failed_preprocessor_events_go_to_a_queue(template: dict[str, Any]) -> None:
    config = template["Resources"]["PreprocessorFunction"]["Properties"]["EventInvokeConfig"]
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    assert on_failure["Destination"] == {"Fn::GetAtt": ["PreprocessorFailedEventsQueue", "Arn"]}


def test_the_functions_build_from_lambdas_only(template: dict[str, Any]) -> None:
    """SAM copies CodeUri before running make: never the repository root (a .venv, bench/data)."""
    for name in ("PreprocessorFunction", "AuthorizerFunction", "FetcherFunction"):
        function = template["Resources"][name]
        assert function["Metadata"] == {"BuildMethod": "makefile", "ContextPath": "."}
        assert function["Properties"]["CodeUri"] == "lambdas/"


def test_the_alarms_watch_metrics_the_code_emits(template: dict[str, Any]) -> None:
    """Each crlcheck metric name, dimension value and the namespace an alarm watches is a string
    the library or a handler writes (crlcheck/logs.py, lambdas/*.py)."""
    sources = "\n".join(
        path.read_text() for path in [*ROOT.glob("crlcheck/**/*.py"), *ROOT.glob("lambdas/*.py")]
    )
    literals = set(re.findall(r"\"([A-Za-z_]+)\"", sources))
    alarms = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    watched = [a["Properties"] for a in alarms if a["Properties"]["Namespace"] == "crlcheck"]
    assert len(watched) == 5
    assert "crlcheck" in literals
    for alarm in watched:
        assert alarm["MetricName"] in literals
        for dimension in alarm.get("Dimensions", []):
            assert dimension["Name"] in literals
            assert dimension["Value"] in literals


def test_only_the_named_private_ca_may_write_into_the_bucket(template: dict[str, Any]) -> None:
    statements = template["Resources"]["CrlBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    (grant,) = [s for s in statements if isinstance(s, dict) and "Fn::If" in s]
    condition, allow, otherwise = grant["Fn::If"]
    assert condition == "AllowPrivateCa"
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert allow["Principal"] == {"Service": "acm-pca.amazonaws.com"}
    assert allow["Condition"]["StringEquals"]["aws:SourceArn"] == {"Ref": "PrivateCaArn"}
    params = _parameters(template, {})
    conditions = template["Conditions"]
    assert _evaluate(conditions["AllowPrivateCa"], params, conditions) is False
    params = _parameters(template, PRIVATE_CA)
    assert _evaluate(conditions["AllowPrivateCa"], params, conditions) is True
