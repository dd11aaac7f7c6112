"""``emocast check-weights``: compare a checkpoint's names and shapes with our real-size network.

The real-size ``Net`` is built on the meta device (no memory, about a second), and its state-dict
names and shapes are compared with either a JSON manifest (``{"state_dict": [{name, shape}, ...]}``)
or a real ``net.pth`` / ``.safetensors`` (only names and shapes are read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from emocast.errors import EmocastError


@dataclass
class CheckResult:
    """Outcome of comparing a checkpoint's key set with the network's."""

    source: str  # the file compared
    network: str = "EmoCAST"  # which variant it was compared with ("EmoCAST" or "Hallo")
    matched: list[str] = field(default_factory=list)  # same name and shape
    missing: list[str] = field(default_factory=list)  # in the network, not in the file
    unexpected: list[str] = field(default_factory=list)  # in the file, not in the network
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # (name, file shape, network shape)

    @property
    def exact(self) -> bool:
        """True when the file loads into the network with strict=True."""
        return not (self.missing or self.unexpected or self.mismatched)

    def report(self, verbose: bool = False) -> str:
        """Human-readable report; the last line is the counts."""
        lines = [f"checked {self.source} against the {self.network} network (real size)"]
        if verbose or not self.exact:
            limit = None if verbose else 10
            for title, names in (("missing", self.missing), ("unexpected", self.unexpected)):
                for name in names[:limit]:
                    lines.append(f"  {title}: {name}")
                if limit is not None and len(names) > limit:
                    lines.append(f"  ... {len(names) - limit} more {title} (use --verbose)")
            for name, file_shape, net_shape in self.mismatched[:limit]:
                lines.append(f"  mismatched: {name} file {list(file_shape)} network {list(net_shape)}")
        lines.append("exact match: loads with strict=True" if self.exact else "NOT an exact match")
        lines.append(
            f"matched {len(self.matched)} / missing {len(self.missing)} / unexpected {len(self.unexpected)}"
            f" / mismatched {len(self.mismatched)}"
        )
        return "\n".join(lines)


def network_shapes(emotive: bool = True) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the real-size Net's state dict (``emotive=False``: Hallo), built on the meta device."""
    import torch

    from emocast.diffusion.config import real_config
    from emocast.diffusion.net import Net

    with torch.device("meta"):
        net = Net.from_config(real_config(emotive=emotive))
    return {name: tuple(t.shape) for name, t in net.state_dict().items()}


def read_manifest(path: Path) -> dict[str, tuple[int, ...]]:
    """Names and shapes from a manifest JSON."""
    try:
        data = json.loads(Path(path).read_text())
        return {entry["name"]: tuple(entry["shape"]) for entry in data["state_dict"]}
    except FileNotFoundError as e:
        raise EmocastError(f"manifest {path} does not exist") from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise EmocastError(f"cannot read manifest {path}: expected JSON with a state_dict list of name/shape ({e})") from e


def read_checkpoint(path: Path) -> dict[str, tuple[int, ...]]:
    """Names and shapes from a checkpoint (tensors are memory-mapped, not read)."""
    from emocast.diffusion.net import load_state_dict_file

    return {name: tuple(t.shape) for name, t in load_state_dict_file(path).items() if hasattr(t, "shape")}


def is_emotive(names) -> bool:
    """A checkpoint with emotive text or audio attention keys is EmoCAST; without them, Hallo."""
    return any(".to_k_ip." in name or ".attn_audioemo." in name for name in names)


def compare(expected: dict[str, tuple[int, ...]], network: dict[str, tuple[int, ...]], source: str,
            variant: str = "EmoCAST") -> CheckResult:
    result = CheckResult(source=source, network=variant)
    for name, shape in expected.items():
        if name not in network:
            result.unexpected.append(name)
        elif network[name] != shape:
            result.mismatched.append((name, shape, network[name]))
        else:
            result.matched.append(name)
    result.missing = [name for name in network if name not in expected]
    return result


def check_weights(manifest: Path | None = None, checkpoint: Path | None = None) -> CheckResult:
    """Compare a manifest or a checkpoint with the real-size EmoCAST network.

    Args:
        manifest: JSON manifest of names and shapes (e.g. shared/reference/emocast_net_manifest.json).
        checkpoint: a ``net.pth`` / ``.safetensors`` state dict.

    Raises:
        EmocastError: neither or both given, or the file is missing / unreadable.
    """
    if (manifest is None) == (checkpoint is None):
        raise EmocastError("give exactly one of --manifest FILE or --checkpoint net.pth")
    if manifest is not None:
        expected, source = read_manifest(Path(manifest)), str(manifest)
    else:
        expected, source = read_checkpoint(Path(checkpoint)), str(checkpoint)
    emotive = is_emotive(expected)
    return compare(expected, network_shapes(emotive), source, "EmoCAST" if emotive else "Hallo")
