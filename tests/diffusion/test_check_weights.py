"""check-weights against the released EmoCAST and Hallo manifests (real-size network on meta)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
if not REFERENCE.is_dir():
    REFERENCE = Path("/work/shared/reference")
pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference manifests not present")


@pytest.mark.parametrize("name, entries", [("emocast", 2832), ("hallo", 2656)])
def test_diffusion_check_weights_manifest_exact(name, entries):
    from emocast.diffusion.check_weights import check_weights

    result = check_weights(manifest=REFERENCE / f"{name}_net_manifest.json")
    assert result.exact
    assert result.report().splitlines()[-1] == f"matched {entries} / missing 0 / unexpected 0 / mismatched 0"


def test_diffusion_check_weights_reports_differences(tmp_path):
    from emocast.diffusion.check_weights import check_weights

    data = json.loads((REFERENCE / "emocast_net_manifest.json").read_text())
    entries = data["state_dict"]
    entries[0]["shape"] = [1, 2, 3]  # mismatched
    entries.pop(1)  # missing
    entries.append({"name": "extra.weight", "shape": [1]})  # unexpected
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"state_dict": entries}))
    result = check_weights(manifest=path)
    assert not result.exact
    assert result.report().splitlines()[-1] == "matched 2830 / missing 1 / unexpected 1 / mismatched 1"


def test_diffusion_check_weights_cli_checkpoint(tmp_path, capsys):
    """The CLI on a (tiny-tensor) checkpoint: a wrong key set -> exit 1; a missing file -> exit 2."""
    import torch

    from emocast.cli import main

    ckpt = tmp_path / "net.pth"
    torch.save({"face_locator.conv_in.weight": torch.zeros(16, 3, 3, 3)}, ckpt)
    assert main(["check-weights", "--checkpoint", str(ckpt)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "Hallo network" in out[0]  # no emotive keys: compared with the network EmoCAST extends
    assert out[-1] == "matched 1 / missing 2655 / unexpected 0 / mismatched 0"
    assert main(["check-weights", "--checkpoint", str(tmp_path / "none.pth")]) == 2
    assert "does not exist" in capsys.readouterr().err
