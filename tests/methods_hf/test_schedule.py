"""The one learning-rate schedule of finetune, setfit and adapt."""

from __future__ import annotations

import pytest

from fewtag.methods._schedule import linear_warmup_decay, lr_factor

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _rates(scheduler, optimizer, steps):
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def test_warm_up_from_the_first_step_then_linear_decay_to_zero():
    assert [lr_factor(s, 4, 10) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_factor(4, 4, 10) == 1.0 and lr_factor(10, 4, 10) == 0.0 and lr_factor(12, 4, 10) == 0.0
    assert lr_factor(0, 0, 5) == 1.0  # no warm-up: decay from the first step


def test_matches_transformers_after_warm_up_and_drives_the_optimiser():
    p = torch.nn.Parameter(torch.zeros(1))
    ours_opt = torch.optim.SGD([p], lr=0.1)
    hf_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    ours = _rates(linear_warmup_decay(ours_opt, 3, 12), ours_opt, 12)
    hf = _rates(transformers.get_linear_schedule_with_warmup(hf_opt, 3, 12), hf_opt, 12)
    assert hf[0] == 0.0 and ours[0] == pytest.approx(0.1 / 3)  # transformers wastes the first step
    assert ours[3:] == pytest.approx(hf[3:])
    assert ours[:3] == pytest.approx([0.1 * (s + 1) / 3 for s in range(3)])
