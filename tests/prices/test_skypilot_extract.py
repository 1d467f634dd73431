"""scripts/extract_skypilot_catalog.py: the shipped EC2 price files are what SkyPilot's rows say, and the
script that made them re-runs on a checkout, giving the same bytes for the same commit."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
import skypilot_rows
from skypilot_rows import COMMIT, ROWS

from aiplane.catalog.instances import load_catalog
from aiplane.catalog.prices import parse_price_file

REPO = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "extract_skypilot_catalog", REPO / "scripts/extract_skypilot_catalog.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checkout(root: Path, rows: str = ROWS) -> Path:
    csv_path = root / "catalogs/v8/aws/vms.csv"
    csv_path.parent.mkdir(parents=True)
    csv_path.write_text(rows, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("instance_type", "region"),
    [
        ("g5.xlarge", "us-west-2"),
        ("g5.xlarge", "eu-west-1"),
        ("p4d.24xlarge", "us-west-2"),
        ("p5.48xlarge", "us-west-2"),
    ],
)
def test_the_shipped_prices_are_the_source_rows(instance_type: str, region: str) -> None:
    """Each shipped on-demand figure is the row's Price; the spot summary spans the rows' SpotPrice per AZ."""
    priced = load_catalog().in_region(region).ec2_instance(instance_type)
    assert priced.on_demand_usd_per_hour == skypilot_rows.on_demand(instance_type, region)
    zones = skypilot_rows.spot(instance_type, region)
    assert priced.spot is not None
    assert priced.spot.zones == zones
    assert (priced.spot.low, priced.spot.high) == (min(zones.values()), max(zones.values()))


def test_the_shipped_us_east_1_p5_spot_leaves_out_the_local_zone_and_the_azs_without_a_discount() -> None:
    p5 = load_catalog().in_region("us-east-1").ec2_instance("p5.48xlarge")
    rows = skypilot_rows.spot("p5.48xlarge", "us-east-1")
    assert p5.spot is not None
    assert p5.spot.zones == {
        z: p for z, p in rows.items() if z in ("use1-az2", "use1-az3", "use1-az5", "use1-az6")
    }
    assert "Local" in p5.spot.excluded["use1-atl2-az1"]
    assert "on-demand price" in p5.spot.excluded["use1-az1"]


def test_a_region_without_rows_for_a_type_does_not_offer_it() -> None:
    ireland = load_catalog().price_files[("ec2", "eu-west-1")].price_file
    assert "p5.48xlarge" in ireland.not_offered  # no eu-west-1 row for p5.48xlarge in the source
    assert "g5.xlarge" in ireland.instances


def test_the_script_writes_the_same_bytes_twice_and_matches_the_shipped_entries(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "checkout")
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    script = _script()
    for out in (out_a, out_b):
        args = ["--checkout", str(checkout), "--commit", COMMIT, "--date", "2026-12-02", "--output", str(out)]
        assert script.main([*args, "--region", "us-west-2", "--region", "eu-west-1"]) == 0
    for region in ("us-west-2", "eu-west-1"):
        written = (out_a / region / "ec2.yaml").read_bytes()
        assert written == (out_b / region / "ec2.yaml").read_bytes()
        extracted = parse_price_file(written.decode(), region)
        shipped = load_catalog().price_files[("ec2", region)].price_file
        for name, entry in extracted.instances.items():
            assert entry == shipped.instances[name], (region, name)
        assert extracted.source.references[0].commit == COMMIT
        assert extracted.source.retrieved == date(2026, 12, 2)


def test_on_a_git_checkout_the_commit_and_date_come_from_git(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path / "checkout")
    git = ["git", "-C", str(checkout), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run(
        [*git, "commit", "-qm", "catalog"],
        check=True,
        env={**os.environ, "GIT_COMMITTER_DATE": "2026-06-30T12:00:00Z"},
    )
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (
        _script().main(
            ["--checkout", str(checkout), "--region", "us-west-2", "--output", str(tmp_path / "out")]
        )
        == 0
    )
    written = parse_price_file((tmp_path / "out/us-west-2/ec2.yaml").read_text(), "us-west-2")
    assert written.source.references[0].commit == head
    assert written.source.retrieved == date(2026, 6, 30)


def test_a_checkout_whose_hardware_disagrees_with_the_catalog_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = ROWS.replace("g5.xlarge,A10G,1.0,4.0,16.0", "g5.xlarge,A10G,1.0,8.0,16.0")
    checkout = _checkout(tmp_path / "checkout", wrong)
    args = [
        "--checkout",
        str(checkout),
        "--commit",
        COMMIT,
        "--date",
        "2026-12-02",
        "--output",
        str(tmp_path / "o"),
    ]
    assert _script().main(args) == 2
    assert "g5.xlarge" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_checkout_that_is_not_git_needs_its_commit_and_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout = _checkout(tmp_path / "checkout")
    assert _script().main(["--checkout", str(checkout), "--output", str(tmp_path / "o")]) == 2
    assert "give --commit and --date" in capsys.readouterr().err
