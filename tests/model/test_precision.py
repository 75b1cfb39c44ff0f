from pathlib import Path

import pytest
import torch

from siamdup.model.precision import bf16_supported


def test_cuda_needs_a_gpu_and_unknown_devices_are_not_trusted() -> None:
    assert bf16_supported("cuda") == (torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    assert bf16_supported("meta") is False


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="reads the CPU flags from Linux /proc")
def test_a_cpu_without_avx512_has_no_native_bfloat16() -> None:
    flags = Path("/proc/cpuinfo").read_text().split()
    if "avx512f" not in flags and "amx_bf16" not in flags:
        assert bf16_supported("cpu") is False
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        assert bf16_supported("cpu") is True
