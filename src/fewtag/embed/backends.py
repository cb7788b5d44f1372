"""Encoder backends: their names, and what ``"auto"`` resolves to on this machine.

``auto`` is the best *lossless* backend the hardware runs natively: ``torch-bf16``
(bfloat16 autocast) on a CPU with native bf16 instructions (``avx512_bf16`` or
``amx_bf16`` in ``/proc/cpuinfo``, and torch's oneDNN agreeing) or a CUDA GPU
that supports bf16, ``torch`` (fp32) everywhere else. bf16 kept the downstream
F1 of fp32 (0.000 ± 0.003 macro F1 on the 4-repository validation folds,
``benchmarks/encoder_speed.py --f1``); without the instructions torch only
emulates bf16, hence the flag check. Its speed-up needs cores to itself: 2.55x
sentence-transformers' ``encode`` on an idle machine, 1.1x on 2 cores shared
with other jobs, where ``onnx-int8`` (3.3x, within a point of F1) is faster.
An encoder records the *resolved* backend, so vectors are cached and models
recorded by what actually ran.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fewtag.errors import InputError

__all__ = ["BACKENDS", "check_backend", "resolve_backend", "cpu_flags", "cpu_has_native_bf16"]

#: what runs an encoder's forward pass; ``auto`` is resolved by :func:`resolve_backend`
BACKENDS = ("auto", "torch", "torch-bf16", "onnx", "onnx-int8")
#: CPU flags (``/proc/cpuinfo``) of native bfloat16 arithmetic
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
CPUINFO = Path("/proc/cpuinfo")


def check_backend(backend: str) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else an :class:`InputError`.

    >>> check_backend("auto")
    'auto'
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where there is no such file)."""
    try:
        text = CPUINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def _torch_runs_bf16() -> bool:
    """torch's own check that its oneDNN kernels run bf16 on this CPU."""
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (ImportError, AttributeError, RuntimeError):  # pragma: no cover - old or odd torch builds
        return False


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 instructions (a flag of :data:`BF16_FLAGS`) and torch agrees.

    torch's check alone is true on any AVX-512 CPU, where bf16 is emulated and
    slower than fp32; the flag says the instructions are there.
    """
    return bool(BF16_FLAGS & cpu_flags()) and _torch_runs_bf16()


def resolve_backend(backend: str, device_type: str = "cpu") -> str:
    """The backend that runs: ``backend`` itself, or for ``"auto"`` the best lossless one.

    Parameters
    ----------
    backend : str
        One of :data:`BACKENDS`.
    device_type : str
        Where the torch model runs (``"cpu"`` or ``"cuda"``).

    Returns
    -------
    str
        A backend other than ``"auto"``.

    Raises
    ------
    InputError
        ``backend`` is not one of :data:`BACKENDS`.

    Examples
    --------
    >>> resolve_backend("onnx")
    'onnx'
    >>> resolve_backend("auto") in ("torch", "torch-bf16")
    True
    """
    if check_backend(backend) != "auto":
        return backend
    if device_type == "cuda":
        import torch

        return "torch-bf16" if torch.cuda.is_bf16_supported() else "torch"
    return "torch-bf16" if cpu_has_native_bf16() else "torch"
