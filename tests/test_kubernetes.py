"""deploy/kubernetes: every manifest valid for Kubernetes, and the promises docs/deploying.md makes."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

import label_studio_sso
from label_studio_sso.container.server import GRACEFUL_TIMEOUT_SECONDS
from tests.support.kubernetes_manifests import BASE, example_secret, one, rendered

VERSION = latest_version()


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return rendered()


def test_every_manifest_validates_against_the_kubernetes_schemas_strictly(
    manifests: list[dict[str, Any]],
) -> None:
    kinds = []
    for document in [*manifests, example_secret()]:
        kubernetes_validate.validate(document, VERSION, strict=True)  # raises on the first error
        kinds.append(document["kind"])
    assert sorted(kinds) == ["ConfigMap", "Deployment", "PodDisruptionBudget", "Secret", "Service"]


def test_a_misspelt_field_is_caught_by_the_validation() -> None:
    """The validation can fail: strict mode refuses a field Kubernetes does not know."""
    deployment = one(rendered(), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSION, strict=True)


def test_two_non_root_read_only_replicas_with_probes_and_file_secrets(
    manifests: list[dict[str, Any]],
) -> None:
    deployment = one(manifests, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert (pod["securityContext"]["runAsNonRoot"], pod["securityContext"]["runAsUser"]) == (True, 1001)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    assert container["resources"]["requests"]
    secret_files = {
        item["name"]: item["value"] for item in container["env"] if item["name"].endswith("_FILE")
    }
    assert set(secret_files) >= {"SECRET_KEY_FILE", "POSTGRE_PASSWORD_FILE", "SSO_SIGNING_KEY_FILE"}
    assert not any("valueFrom" in item for item in container["env"])  # no secret as a variable's value
    mounted = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert all(path.rsplit("/", 1)[0] in mounted for path in secret_files.values())


def test_kubernetes_waits_longer_than_the_pause_and_gunicorns_graceful_stop(
    manifests: list[dict[str, Any]],
) -> None:
    pod = one(manifests, "Deployment")["spec"]["template"]["spec"]
    pause = int(pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > pause + GRACEFUL_TIMEOUT_SECONDS


def test_the_service_and_the_budget_select_the_deployments_pods(manifests: list[dict[str, Any]]) -> None:
    labels = one(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    for kind, selector in (
        ("Service", one(manifests, "Service")["spec"]["selector"]),
        ("PodDisruptionBudget", one(manifests, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]),
    ):
        assert selector and selector.items() <= labels.items(), kind


def test_the_example_secret_has_every_file_the_deployment_reads(manifests: list[dict[str, Any]]) -> None:
    container = one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    wanted = {item["value"].rsplit("/", 1)[1] for item in container["env"] if item["name"].endswith("_FILE")}
    assert wanted == set(example_secret()["stringData"])
    assert (
        example_secret()["metadata"]["name"]
        == one(manifests, "Deployment")["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"]
    )


def test_the_base_is_not_applied_with_the_example_secret() -> None:
    assert "secret.example.yaml" not in (BASE / "kustomization.yaml").read_text().split("resources:")[1]


def test_the_deployments_name_the_image_of_this_release() -> None:
    """The version is written once, in the Dockerfile; the deployments name that image tag."""
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    helm_values = yaml.safe_load((BASE.parent / "helm" / "label-studio-values.yaml").read_text())
    assert kustomization["images"][0]["newTag"] == label_studio_sso.__version__
    assert helm_values["global"]["image"]["tag"] == label_studio_sso.__version__
