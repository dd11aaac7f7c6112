"""Exponential moving average of the trained weights (optional; ``optim.ema_decay`` > 0).

Only the parameters a stage trains are averaged; the frozen rest is shared with the model. The
average is what a finished stage exports as ``net_ema.pth`` next to the raw ``net.pth``.
"""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    """Shadow copies of named parameters, updated as shadow = decay * shadow + (1 - decay) * param.

    Args:
        named_parameters: (name, parameter) pairs to average (the stage's trainable ones).
        decay: 0..1; Hallo-style runs use 0.9995-0.9999.
        warmup: use min(decay, (1 + step) / (10 + step)) so early averages are not stuck at the init.
    """

    def __init__(self, named_parameters, decay: float, warmup: bool = True) -> None:
        self.decay, self.warmup, self.num_updates = float(decay), warmup, 0
        self.shadow = {name: p.detach().clone().float() for name, p in named_parameters}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the shadow towards the model's current weights (call after each optimiser step)."""
        self.num_updates += 1
        decay = self.decay
        if self.warmup:
            decay = min(decay, (1 + self.num_updates) / (10 + self.num_updates))
        params = dict(model.named_parameters())
        for name, shadow in self.shadow.items():
            shadow.lerp_(params[name].detach().float(), 1.0 - decay)

    @torch.no_grad()
    def averaged_state_dict(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """The model's state dict with the averaged weights in place of the trained ones."""
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        for name, shadow in self.shadow.items():
            state[name] = shadow.to(state[name].dtype)
        return state

    def state_dict(self) -> dict:
        return {"decay": self.decay, "num_updates": self.num_updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict) -> None:
        self.decay, self.num_updates = state["decay"], state["num_updates"]
        missing = set(self.shadow) - set(state["shadow"])
        if missing:
            raise KeyError(f"EMA state lacks {len(missing)} parameters, e.g. {sorted(missing)[0]}")
        for name in self.shadow:
            self.shadow[name].copy_(state["shadow"][name])
