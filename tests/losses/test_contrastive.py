import pytest
import torch

from siamdup.losses import ContrastiveLoss


@pytest.mark.parametrize("seed", range(5))
def test_matches_loop(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    a, b = (torch.nn.functional.normalize(torch.randn(10, 6, generator=g), dim=1) for _ in range(2))
    labels = torch.randint(0, 2, (10,), generator=g)
    expected = []
    for i in range(10):
        d = 1.0 - float(a[i] @ b[i])
        expected.append(d**2 if labels[i] == 1 else max(0.6 - d, 0.0) ** 2)
    assert ContrastiveLoss(0.6)(a, b, labels).item() == pytest.approx(sum(expected) / 10, abs=1e-6)
    assert ContrastiveLoss(0.6, "sum")(a, b, labels).item() == pytest.approx(sum(expected), abs=1e-5)


def test_hand_values() -> None:
    x = torch.tensor([[1.0, 0.0]])
    y = torch.tensor([[0.0, 1.0]])  # cosine 0, distance 1
    assert (
        ContrastiveLoss(0.5)(x, x, torch.tensor([1])).item() == 0.0
    )  # identical duplicates: nothing to pull
    assert ContrastiveLoss(0.5)(x, y, torch.tensor([1])).item() == pytest.approx(1.0)
    assert ContrastiveLoss(0.5)(x, y, torch.tensor([0])).item() == 0.0  # beyond the margin already
    assert ContrastiveLoss(0.5)(x, x, torch.tensor([0])).item() == pytest.approx(0.25)  # (0.5 - 0)²


@pytest.mark.parametrize("seed", range(5))
def test_balanced_matches_loop(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    a, b = (torch.nn.functional.normalize(torch.randn(12, 6, generator=g), dim=1) for _ in range(2))
    labels = torch.tensor([1] * 9 + [0] * 3)
    duplicates, non_duplicates = [], []
    for i in range(12):
        d = 1.0 - float(a[i] @ b[i])
        if labels[i] == 1:
            duplicates.append(d**2)
        else:
            non_duplicates.append(max(0.6 - d, 0.0) ** 2)
    expected = (sum(duplicates) / 9 + sum(non_duplicates) / 3) / 2
    assert ContrastiveLoss(0.6, balanced=True)(a, b, labels).item() == pytest.approx(expected, abs=1e-6)
    # one class only: its own mean, as the unbalanced loss gives
    only = ContrastiveLoss(0.6, balanced=True)(a[:9], b[:9], labels[:9]).item()
    assert only == pytest.approx(ContrastiveLoss(0.6)(a[:9], b[:9], labels[:9]).item(), abs=1e-6)


def test_balanced_lifts_the_few_non_duplicates() -> None:
    # 3 orthogonal duplicates (loss 1.0 each), then 1 identical non-duplicate (loss 0.25)
    a = torch.tensor([[1.0, 0.0]] * 4)
    b = torch.tensor([[0.0, 1.0]] * 3 + [[1.0, 0.0]])
    labels = torch.tensor([1, 1, 1, 0])
    assert ContrastiveLoss(0.5)(a, b, labels).item() == pytest.approx((3 * 1.0 + 0.25) / 4)
    assert ContrastiveLoss(0.5, balanced=True)(a, b, labels).item() == pytest.approx((1.0 + 0.25) / 2)
