import math

import pytest
import torch

from siamdup.losses import InBatchSoftmaxLoss


def loop(a: torch.Tensor, cands: torch.Tensor, scale: float, symmetric: bool) -> float:
    b = len(a)
    rows = []
    for i in range(b):
        logits = [scale * float(a[i] @ cands[j]) for j in range(len(cands))]
        row = -logits[i] + math.log(sum(math.exp(x) for x in logits))
        if symmetric:
            col = [scale * float(a[j] @ cands[i]) for j in range(b)]
            row = (row + (-col[i] + math.log(sum(math.exp(x) for x in col)))) / 2
        rows.append(row)
    return sum(rows) / b


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("extra", [0, 3])
def test_matches_loop(seed: int, symmetric: bool, extra: int) -> None:
    g = torch.Generator().manual_seed(seed)
    a = torch.nn.functional.normalize(torch.randn(6, 8, generator=g), dim=1)
    p = torch.nn.functional.normalize(torch.randn(6, 8, generator=g), dim=1)
    n = torch.nn.functional.normalize(torch.randn(extra, 8, generator=g), dim=1) if extra else None
    cands = p if n is None else torch.cat([p, n])
    got = InBatchSoftmaxLoss(scale=5.0, symmetric=symmetric)(a, p, n).item()
    assert got == pytest.approx(loop(a, cands, 5.0, symmetric), abs=1e-5)
