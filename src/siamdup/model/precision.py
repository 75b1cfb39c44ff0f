"""Whether this device computes in bfloat16 natively, so that bf16 autocast is a speed-up.

A CPU without AVX-512 BF16 or AMX emulates it: a MiniLM training step ran about 35 times slower under
autocast than the float32 step runs (2 pairs/s on an AVX2-only AMD EPYC, against 57 with BF16 hardware),
and oneDNN has no bfloat16 LSTM for such a CPU at all. There, siamdup computes in float32 instead.
"""

from __future__ import annotations

import functools

import torch


@functools.cache
def bf16_supported(device_type: str) -> bool:
    """True where bfloat16 arithmetic runs in hardware on this machine's `device_type` ("cpu", "cuda")."""
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device_type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False
