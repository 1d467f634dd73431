"""The price and quota catalog: what the cost policy, cost report and quota rule rely on."""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Annotated, Any

import pytest
import yaml
from pydantic import AfterValidator, BaseModel, ValidationError

from aiplane.catalog.instances import (
    CATALOG_FOLDER,
    EC2_INSTANCES_FILE,
    ENDPOINT_QUOTAS_FILE,
    QUOTAS_FILE,
    SAGEMAKER_INSTANCES_FILE,
    Catalog,
    Ec2InstanceType,
    NotOfferedInRegion,
    PricedEc2Instance,
    RegionNotCatalogued,
    UnknownInstanceType,
    UnknownQuota,
    load_catalog,
)

DATA_FILES = (EC2_INSTANCES_FILE, SAGEMAKER_INSTANCES_FILE, QUOTAS_FILE, ENDPOINT_QUOTAS_FILE)

# The section 5 table of the FinOps reference, plus trn1n which the same catalog lists.
REFERENCE_EC2_TYPES = {
    "p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "g5.xlarge", "g5.2xlarge", "g5.12xlarge",
    "g5.48xlarge", "g6.xlarge", "g6.12xlarge", "g6.48xlarge", "g6e.xlarge", "inf2.xlarge",
    "inf2.48xlarge", "trn1.32xlarge", "trn1n.32xlarge",
}  # fmt: skip


def raw(file: str) -> Any:
    text = resources.files("aiplane").joinpath(CATALOG_FOLDER).joinpath(file).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def valid_ec2_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "g5.xlarge", "vcpus": 4, "accelerator_count": 1, "accelerator_name": "NVIDIA A10G",
        "accelerator_memory_gib": 22.3515625, "manufacturer": "nvidia", "quota_class": "g",
        "architecture": "x86_64", "default_ami_type": "AL2023_x86_64_NVIDIA",
    }  # fmt: skip
    entry.update(overrides)
    return entry


# --- every entry in the shipped data loads ------------------------------------------------------


def test_every_ec2_entry_in_the_data_file_can_be_looked_up(catalog: Catalog) -> None:
    names = [entry["name"] for entry in raw(EC2_INSTANCES_FILE)["instances"]]
    assert sorted(names) == catalog.ec2_instance_names()
    for name in names:
        assert catalog.ec2_instance(name).name == name


def test_every_sagemaker_entry_in_the_data_file_can_be_looked_up(catalog: Catalog) -> None:
    names = [entry["name"] for entry in raw(SAGEMAKER_INSTANCES_FILE)["instances"]]
    assert sorted(names) == catalog.sagemaker_instance_names()
    for name in names:
        assert catalog.sagemaker_instance(name).name == name


def test_the_catalog_covers_every_type_in_the_reference_price_table(catalog: Catalog) -> None:
    assert set(catalog.ec2_instance_names()) >= REFERENCE_EC2_TYPES


def test_instance_names_are_sorted_for_use_as_schema_enums(catalog: Catalog) -> None:
    assert catalog.ec2_instance_names() == sorted(catalog.ec2_instance_names())
    assert catalog.sagemaker_instance_names() == sorted(catalog.sagemaker_instance_names())


def test_the_catalog_is_loaded_once_per_process() -> None:
    assert load_catalog() is load_catalog()


# --- prices: per region, only through the region -------------------------------------------------------


def test_every_price_is_positive_and_spot_stays_below_on_demand(catalog: Catalog) -> None:
    for region in catalog.regions():
        regional = catalog.in_region(region)
        for name, ec2 in regional.ec2_instances.items():
            assert ec2.on_demand_usd_per_hour > 0, (region, name)
            if ec2.spot is not None:
                assert 0 < ec2.spot.low <= ec2.spot.median <= ec2.spot.high <= ec2.on_demand_usd_per_hour
        for name, hosting in regional.sagemaker_instances.items():
            assert hosting.on_demand_usd_per_hour > 0, (region, name)


def test_the_shipped_regions_price_every_catalogued_ec2_type_or_say_it_is_not_offered(catalog: Catalog) -> None:
    assert catalog.regions("ec2") == ["eu-west-1", "us-east-1", "us-west-2"]
    for region in catalog.regions("ec2"):
        price_file = catalog.price_files[("ec2", region)].price_file
        assert set(price_file.instances) | set(price_file.not_offered) == set(catalog.ec2_instance_names())
    # us-east-1 and us-west-2 offer every catalogued type.
    assert set(catalog.in_region("us-west-2").ec2_instances) == set(catalog.ec2_instance_names())


def test_p5_48xlarge_matches_the_reference_figures(catalog: Catalog) -> None:
    p5 = catalog.in_region("us-east-1").ec2_instance("p5.48xlarge")
    assert (p5.vcpus, p5.accelerator_count, p5.on_demand_usd_per_hour) == (192, 8, 55.04)
    assert p5.accelerator_name == "NVIDIA H100"
    assert p5.accelerator_memory_gib == 80
    assert (p5.manufacturer, p5.quota_class, p5.family, p5.region) == ("nvidia", "p", "p5", "us-east-1")
    # Reference section 5: spot 17.63-25.75 over the AZs that discount; use1-az1/az4 quote on-demand.
    assert p5.spot is not None and (p5.spot.low, p5.spot.high) == (17.6289, 25.7522)
    assert set(p5.spot.excluded) == {"use1-az1", "use1-az4", "use1-atl2-az1"}


def test_expected_spot_discount_is_derived_from_the_spot_median(catalog: Catalog) -> None:
    p5 = catalog.in_region("us-east-1").ec2_instance("p5.48xlarge")
    assert p5.spot is not None and p5.expected_spot_discount is not None
    assert p5.expected_spot_discount == pytest.approx(1 - p5.spot.median / 55.04)
    # Reference section 8: p5 spot saves roughly 53-68% where it is offered.
    assert 0.53 <= p5.expected_spot_discount <= 0.68


def test_a_type_without_spot_prices_has_no_expected_discount(catalog: Catalog) -> None:
    g5 = catalog.in_region("us-east-1").ec2_instance("g5.xlarge")
    no_spot = PricedEc2Instance.model_validate({**g5.model_dump(), "spot": None})
    assert no_spot.expected_spot_discount is None


def test_the_same_type_costs_what_its_own_region_charges(catalog: Catalog) -> None:
    east = catalog.in_region("us-east-1").ec2_instance("g5.xlarge")
    ireland = catalog.in_region("eu-west-1").ec2_instance("g5.xlarge")
    assert (east.on_demand_usd_per_hour, ireland.on_demand_usd_per_hour) == (1.006, 1.123)


def test_an_uncatalogued_region_is_refused_with_the_command_that_fetches_it(catalog: Catalog) -> None:
    with pytest.raises(RegionNotCatalogued) as raised:
        catalog.in_region("ap-south-1")
    assert "aiplane catalog refresh --region ap-south-1" in str(raised.value)
    assert "eu-west-1, us-east-1, us-west-2" in str(raised.value)


def test_a_type_the_region_does_not_offer_is_refused_never_priced_elsewhere(catalog: Catalog) -> None:
    ireland = catalog.in_region("eu-west-1")
    with pytest.raises(NotOfferedInRegion, match=r"p5\.48xlarge is not offered in eu-west-1"):
        ireland.ec2_instance("p5.48xlarge")
    assert ireland.refusal("ec2", "g5.xlarge") is None
    # No SageMaker prices there at all: refused with the refresh command, not us-east-1's figure.
    message = ireland.refusal("sagemaker", "ml.g5.xlarge")
    assert message is not None
    assert "aiplane catalog refresh --region eu-west-1 --service sagemaker" in message


def test_a_recording_view_notes_the_uncertain_prices_a_computation_used(catalog: Catalog) -> None:
    view = catalog.in_region("us-east-1").recording()
    view.ec2_instance("g5.xlarge")
    assert view.uncertain_prices() == []
    view.sagemaker_instance("ml.g5.xlarge")
    view.sagemaker_instance("ml.g5.xlarge")
    assert len(view.uncertain_prices()) == 1
    assert view.uncertain_prices()[0].startswith("SageMaker ml.g5.xlarge in us-east-1: ")


def test_sagemaker_types_describe_the_same_hardware_as_their_ec2_equivalent(catalog: Catalog) -> None:
    for name in catalog.sagemaker_instance_names():
        hosting = catalog.sagemaker_instance(name)
        if hosting.ec2_equivalent is None:
            continue
        ec2 = catalog.ec2_instance(hosting.ec2_equivalent)
        assert (hosting.vcpus, hosting.accelerator_count, hosting.accelerator_name) == (
            ec2.vcpus,
            ec2.accelerator_count,
            ec2.accelerator_name,
        ), name


# --- unknown types are errors, never a price of zero ------------------------------------------------


def test_an_unknown_ec2_type_raises_and_suggests_the_close_match(catalog: Catalog) -> None:
    with pytest.raises(UnknownInstanceType) as raised:
        catalog.ec2_instance("g5.xlarg")
    assert isinstance(raised.value, KeyError)
    assert raised.value.suggestions[0] == "g5.xlarge"
    assert "did you mean g5.xlarge" in str(raised.value)


def _known_ec2_type(name: str) -> str:
    return load_catalog().ec2_instance(name).name


class _NodePool(BaseModel):
    instance_type: Annotated[str, AfterValidator(_known_ec2_type)]


def test_an_unknown_type_in_a_pydantic_field_becomes_a_validation_error_naming_the_field() -> None:

    with pytest.raises(ValidationError) as raised:
        _NodePool(instance_type="p5.48xlarg")
    assert raised.value.errors()[0]["loc"] == ("instance_type",)
    assert "did you mean p5.48xlarge" in str(raised.value)


def test_an_unknown_type_with_no_close_match_lists_the_known_types(catalog: Catalog) -> None:
    with pytest.raises(UnknownInstanceType) as raised:
        catalog.ec2_instance("x9z.tiny")
    assert "known types: g5.12xlarge" in str(raised.value)


def test_an_ec2_name_given_as_a_sagemaker_type_suggests_the_ml_prefixed_name(catalog: Catalog) -> None:
    with pytest.raises(UnknownInstanceType) as raised:
        catalog.sagemaker_instance("g5.xlarge")
    assert raised.value.suggestions[0] == "ml.g5.xlarge"


# --- quotas ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("quota_class", ["p", "g", "inf", "trn", "standard"])
@pytest.mark.parametrize("purchase", ["onDemand", "spot"])
def test_each_quota_class_has_an_ec2_code_for_both_purchase_options(
    catalog: Catalog, quota_class: str, purchase: str
) -> None:
    quota = catalog.quota(quota_class, purchase)
    assert quota.service_code == "ec2"
    assert quota.code.startswith("L-")
    assert (quota.quota_class, quota.purchase) == (quota_class, purchase)


def test_on_demand_and_spot_codes_differ_within_a_class(catalog: Catalog) -> None:
    for quota_class in ("p", "g", "inf", "trn", "standard"):
        assert catalog.quota(quota_class, "onDemand").code != catalog.quota(quota_class, "spot").code


def test_gpu_node_pools_draw_on_the_right_quota(catalog: Catalog) -> None:
    assert catalog.quota_for_instance("p5.48xlarge", "onDemand").code == "L-417A185B"
    assert catalog.quota_for_instance("g6e.xlarge", "spot").code == "L-3819A6DF"
    assert (
        catalog.quota_for_instance("g5.48xlarge", "onDemand").name == "Running On-Demand G and VT instances"
    )
    assert catalog.quota_for_instance("inf2.48xlarge", "onDemand").code == "L-1945791B"


def test_unconfirmed_quota_codes_are_flagged_uncertain(catalog: Catalog) -> None:
    assert catalog.quota("trn", "onDemand").uncertain
    assert catalog.quota("trn", "spot").uncertain
    assert catalog.quota("inf", "spot").uncertain
    assert not catalog.quota("p", "onDemand").uncertain


def test_quota_lookup_accepts_eks_and_karpenter_capacity_spellings(catalog: Catalog) -> None:
    assert catalog.quota("g", "ON_DEMAND") == catalog.quota("g", "onDemand")
    assert catalog.quota("g", "on-demand") == catalog.quota("g", "onDemand")
    assert catalog.quota("g", "SPOT") == catalog.quota("g", "spot")


def test_an_unknown_quota_class_or_purchase_option_is_an_error(catalog: Catalog) -> None:
    with pytest.raises(UnknownQuota, match="known classes"):
        catalog.quota("x", "onDemand")
    with pytest.raises(UnknownQuota, match="use onDemand or spot"):
        catalog.quota("g", "reserved")


def test_every_ec2_type_uses_the_ami_and_quota_of_its_maker_and_family(catalog: Catalog) -> None:
    expected_ami = {"nvidia": "AL2023_x86_64_NVIDIA", "aws": "AL2023_x86_64_NEURON"}
    for name in catalog.ec2_instance_names():
        ec2 = catalog.ec2_instance(name)
        assert ec2.default_ami_type == expected_ami[ec2.manufacturer], name
        assert ec2.architecture == "x86_64"
        catalog.quota(ec2.quota_class, "onDemand")


# --- the data guards itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"default_ami_type": "AL2_x86_64_GPU"}, "must be AL2023_x86_64_NVIDIA"),
        ({"quota_class": "p"}, "belongs to quota class g"),
        ({"vcpus": 0}, "greater than 0"),
    ],
)
def test_inconsistent_entries_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Ec2InstanceType.model_validate(valid_ec2_entry(**overrides))


# --- provenance ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("file", DATA_FILES)
def test_every_data_file_has_a_source_block_with_a_retrieval_date(file: str) -> None:
    source = raw(file)["source"]
    assert isinstance(source["retrieved"], date)
    assert source["summary"].strip()
    assert source["references"]


def test_sources_summarise_each_file_for_reports(catalog: Catalog) -> None:
    price_files = {f"prices/{region}/{service}.yaml" for service, region in catalog.price_files}
    assert set(catalog.sources) == set(DATA_FILES) | price_files
    assert "prices/eu-west-1/ec2.yaml" in catalog.sources
    assert all("retrieved 20" in summary for summary in catalog.sources.values())


def test_every_uncertain_entry_explains_itself(catalog: Catalog) -> None:
    entries = catalog.uncertain_entries()
    assert any(entry.startswith("quota trn/onDemand L-2C3B7624") for entry in entries)
    assert any(entry.startswith("SageMaker ml.g5.xlarge in us-east-1: ") for entry in entries)
    assert "EC2 p4d.24xlarge spot in eu-west-1: spot from a single AZ (euw1-az2): a point, not a range" in entries
    assert all(not entry.endswith(": None") for entry in entries)


def test_endpoint_quota_codes_are_only_those_a_cited_source_states(catalog: Catalog) -> None:
    """SageMaker "<type> for endpoint usage" codes: every entry names its source; p4d, whose code appears only
    in unattributed listings, is absent, so nothing composes a quota for it."""
    assert catalog.endpoint_quota_types() == ["ml.g5.2xlarge", "ml.g5.xlarge", "ml.inf2.xlarge", "ml.m5.xlarge"]
    g5 = catalog.endpoint_quota("ml.g5.xlarge")
    assert g5 is not None and (g5.code, g5.service_code, g5.purchase) == ("L-1928E07B", "sagemaker", "endpoint")
    assert all("aws-samples/" in q.source for q in catalog.endpoint_quotas.values())
    assert catalog.endpoint_quota("ml.p4d.24xlarge") is None
    references = raw(ENDPOINT_QUOTAS_FILE)["source"]["references"]
    assert all(len(r["commit"]) == 40 for r in references)
