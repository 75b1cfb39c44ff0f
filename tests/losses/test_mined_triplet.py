import pytest
import torch

from siamdup.losses import MinedTripletLoss

WORKED_S = torch.tensor(
    [[0.9, -0.8, 0.3, -0.5], [-0.4, 0.5, 0.1, -0.1], [0.3, 0.1, -0.4, -0.8], [-0.5, -0.2, -0.7, 0.5]]
)


def loop_loss(
    S: torch.Tensor, margin: float, mean_term: bool = True, closest_term: bool = True
) -> list[float]:
    """The definition, one row and one cell at a time."""
    b, n = S.shape
    rows = []
    for i in range(b):
        pos = float(S[i, i])
        negs = [float(S[i, j]) for j in range(n) if j != i]
        total = 0.0
        if mean_term:
            total += max(sum(negs) / len(negs) - pos + margin, 0.0)
        if closest_term:
            below = [v for v in negs if v < pos]
            if below:
                total += max(max(below) - pos + margin, 0.0)
        rows.append(total)
    return rows


def closest_negatives(S: torch.Tensor) -> list[float]:
    return [max(float(S[i, j]) for j in range(len(S)) if j != i and S[i, j] < S[i, i]) for i in range(len(S))]


def test_worked_example() -> None:
    assert closest_negatives(WORKED_S) == pytest.approx([0.3, 0.1, -0.8, -0.2])
    loss = MinedTripletLoss(margin=0.25).from_scores(WORKED_S)
    assert loss.item() == pytest.approx(0.5167, abs=1e-4)
    assert loss.item() == pytest.approx(sum(loop_loss(WORKED_S, 0.25)), abs=1e-6)


def test_worked_example_mean_reduction_and_single_terms() -> None:
    assert MinedTripletLoss(0.25, reduction="mean").from_scores(WORKED_S).item() == pytest.approx(
        0.5167 / 4, abs=1e-4
    )
    # Only row 3's mean term is active in the worked example: (-0.1333 + 0.4 + 0.25).
    only_mean = MinedTripletLoss(0.25, closest_negative=False).from_scores(WORKED_S).item()
    assert only_mean == pytest.approx(0.51667, abs=1e-4)
    assert MinedTripletLoss(0.25, mean_negative=False).from_scores(WORKED_S).item() == pytest.approx(
        0.0, abs=1e-7
    )
    # A larger margin wakes the closest terms: row 1 (0.3-0.9+0.7) = 0.1 etc.
    big = MinedTripletLoss(0.7, mean_negative=False).from_scores(WORKED_S).item()
    assert big == pytest.approx(sum(loop_loss(WORKED_S, 0.7, mean_term=False)), abs=1e-6)
    assert big > 0.5


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("extra", [0, 5])
@pytest.mark.parametrize("terms", [(True, True), (True, False), (False, True)])
def test_vectorised_matches_loop(seed: int, extra: int, terms: tuple[bool, bool]) -> None:
    g = torch.Generator().manual_seed(seed)
    b, d = 7, 16
    a = torch.nn.functional.normalize(torch.randn(b, d, generator=g), dim=1)
    p = torch.nn.functional.normalize(a + 0.8 * torch.randn(b, d, generator=g), dim=1)
    n = torch.nn.functional.normalize(torch.randn(extra, d, generator=g), dim=1) if extra else None
    loss_fn = MinedTripletLoss(margin=0.3, mean_negative=terms[0], closest_negative=terms[1])
    S = a @ (p if n is None else torch.cat([p, n])).T
    expected = loop_loss(S, 0.3, *terms)
    assert loss_fn(a, p, n).item() == pytest.approx(sum(expected), abs=1e-5)
    mean_fn = MinedTripletLoss(0.3, "mean", *terms)
    assert mean_fn(a, p, n).item() == pytest.approx(sum(expected) / b, abs=1e-6)


def test_row_without_smaller_negative_contributes_no_closest_term() -> None:
    # Row 0: every negative (0.5, 0.4) is above its positive (0.1): no closest negative exists.
    S = torch.tensor([[0.1, 0.5, 0.4], [0.0, 0.9, 0.2], [0.1, 0.3, 0.8]], requires_grad=True)
    closest_only = MinedTripletLoss(0.25, mean_negative=False).from_scores(S)
    # Row 1: closest 0.2 -> max(0.2-0.9+0.25, 0) = 0; row 2: closest 0.3 -> 0 as well.
    assert closest_only.item() == 0.0
    both = MinedTripletLoss(0.25).from_scores(S)
    assert both.item() == pytest.approx(0.45 - 0.1 + 0.25, abs=1e-6)  # row 0's mean term alone
    both.backward()
    assert torch.isfinite(S.grad).all()
    assert S.grad[0, 0] < 0  # the positive of the violating row is pushed up


def test_gradients_push_positive_up_and_negatives_down() -> None:
    S = WORKED_S.clone().requires_grad_(True)
    MinedTripletLoss(0.25).from_scores(S).backward()
    assert S.grad[2, 2] < 0 and (S.grad[2, [0, 1, 3]] > 0).all()


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="n >= b"):
        MinedTripletLoss().from_scores(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="at least one"):
        MinedTripletLoss(mean_negative=False, closest_negative=False)
    with pytest.raises(ValueError, match="reduction"):
        MinedTripletLoss(reduction="max").from_scores(WORKED_S)
