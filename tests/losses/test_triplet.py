import pytest
import torch

from siamdup.losses import TripletLoss


@pytest.mark.parametrize("seed", range(5))
def test_matches_loop(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    a, p, n = (torch.nn.functional.normalize(torch.randn(9, 8, generator=g), dim=1) for _ in range(3))
    expected = [max(float(a[i] @ n[i]) - float(a[i] @ p[i]) + 0.25, 0.0) for i in range(9)]
    assert TripletLoss(0.25)(a, p, n).item() == pytest.approx(sum(expected), abs=1e-5)
    assert TripletLoss(0.25, "mean")(a, p, n).item() == pytest.approx(sum(expected) / 9, abs=1e-6)


def test_easy_triple_costs_nothing_hard_one_costs_margin_plus_gap() -> None:
    a = torch.tensor([[1.0, 0.0]])
    assert TripletLoss(0.25)(a, a, -a).item() == 0.0
    assert TripletLoss(0.25)(a, -a, a).item() == pytest.approx(2.25)
