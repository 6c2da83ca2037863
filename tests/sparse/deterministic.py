"""Sparse vectors that the crash tests' writer process and their checks both compute:
float32-exact values, sorted distinct dimensions, labels on every third vector."""

from __future__ import annotations

from azurite import SparseVector


def sparse_vector(batch: int, i: int) -> SparseVector:
    n = 1 + (batch * 7 + i) % 9
    indices = sorted({(batch * 131 + i * 17 + k * 1009) % 50000 for k in range(n)})
    values = [float((j % 13) - 6) / 4 for j in range(len(indices))]
    labels = [f"t{index}" for index in indices] if i % 3 == 0 else None
    return SparseVector(indices=indices, values=values, labels=labels)
