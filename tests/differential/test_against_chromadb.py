"""Replay seeded call sequences on chromadb 1.5.9 and on azurite and demand the same observations.

Environment:
    AZURITE_DIFF_SEEDS   number of seeds (default 200)
    AZURITE_DIFF_TARGET  "azurite" (default) or "chromadb", which replays chromadb against itself
                         to check the harness (generator determinism, normalisation, comparison)

Results must agree exactly except where the API leaves room: floats in embeddings and
distances are compared with a tolerance, and query hits with tied distances may come in any
order.
"""

from __future__ import annotations

import math
import os
from types import ModuleType
from typing import Any

import chromadb
import pytest

import azurite

from .ops import (
    EXACT_HITS,
    RANK_DISTANCE,
    VALID_METHODS,
    Call,
    Observation,
    all_invalid_kinds,
    generate_sequence,
    run_sequence,
)

SEED_COUNT = int(os.environ.get("AZURITE_DIFF_SEEDS", "200"))
TARGET = os.environ.get("AZURITE_DIFF_TARGET", "azurite")

# Distances: float32 arithmetic in a different summation order differs in the last bits, and a
# cosine distance of near-identical vectors is a difference of two numbers close to 1.
DISTANCE_RELATIVE_TOLERANCE = 1e-4
DISTANCE_ABSOLUTE_TOLERANCE = 1e-5
# Embeddings come back as float32 values; cosine collections return norm * unit vector.
EMBEDDING_TOLERANCE = 1e-5
# Hits whose distances differ by less than this are a tie whose order is not specified.
TIE_TOLERANCE = 1e-6
TOLERANT_KEYS = {
    "embeddings": EMBEDDING_TOLERANCE,
    "distances": None,
    RANK_DISTANCE: None,
}


@pytest.fixture(scope="module")
def system_under_test() -> ModuleType:
    return {"azurite": azurite, "chromadb": chromadb}[TARGET]


@pytest.mark.parametrize("seed", range(SEED_COUNT))
def test_same_observations_as_chromadb(seed: int, system_under_test: ModuleType) -> None:
    calls = generate_sequence(seed)
    expected = run_sequence(chromadb, calls)
    actual = run_sequence(system_under_test, calls)
    differences = [
        (index, detail)
        for index, call in enumerate(calls)
        if (detail := observation_difference(call, expected[index], actual[index])) is not None
    ]
    if differences:
        pytest.fail(_failure_report(seed, calls, expected, actual, differences), pytrace=False)


def test_generator_covers_every_method_and_invalid_kind() -> None:
    generated = {call.kind for seed in range(SEED_COUNT) for call in generate_sequence(seed)}
    missing_methods = set(VALID_METHODS) - generated
    missing_invalid = all_invalid_kinds() - generated
    assert not missing_methods, f"never generated: {sorted(missing_methods)}"
    assert not missing_invalid, f"never generated: {sorted(missing_invalid)}"


def test_generation_depends_on_the_seed_only() -> None:
    first = [call.describe() for call in generate_sequence(7)]
    again = [call.describe() for call in generate_sequence(7)]
    assert first == again


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def _spec_error(call: Call, error: str, message: str) -> Observation:
    return ("error", error, f"{message} in {call.method}." if call.compare_message else None)


#: Calls where Azurite follows Chroma's validation rules where chromadb 1.5.9 crashes. A
#: metadata entry that is not a dict is the validator's ValueError; chromadb raises AttributeError only
#: because its normaliser calls `.items()` on it before validating.
SPEC_OVER_CHROMADB = {
    "invalid:metadata_not_dict": lambda call: _spec_error(
        call, "ValueError", "Expected metadata to be a dict or None, got str as metadata"
    ),
}


def observation_difference(call: Call, expected: Observation, actual: Observation) -> str | None:
    """Why `actual` does not match `expected`, or None when it does."""
    spec = SPEC_OVER_CHROMADB.get(call.kind)
    if spec is not None:
        return None if actual == spec(call) else f"expected the spec's {spec(call)}"
    if expected[0] == "error" or actual[0] == "error":
        return None if expected == actual else "outcome differs"
    if call.method == "query":
        return _query_difference(call, expected[1], actual[1])
    return _value_difference(expected[1], actual[1], "result")


def _value_difference(
    expected: Any, actual: Any, path: str, tolerance: float | None = 0.0
) -> str | None:
    """First place where two plain values differ; `tolerance` applies to floats below `path`.

    Types are compared strictly (True is not 1, 1 is not 1.0) because metadata keeps them.
    A tolerance of None means "a distance": relative comparison.
    """
    if isinstance(expected, float) and isinstance(actual, float):
        return (
            None
            if _floats_match(expected, actual, tolerance)
            else f"{path}: {expected!r} != {actual!r}"
        )
    if type(expected) is not type(actual):
        return (
            f"{path}: {type(expected).__name__} {expected!r} != {type(actual).__name__} {actual!r}"
        )
    if isinstance(expected, dict):
        if set(expected) != set(actual):
            return f"{path}: keys {sorted(map(str, expected))} != {sorted(map(str, actual))}"
        for key in expected:
            below = TOLERANT_KEYS.get(key, tolerance) if isinstance(key, str) else tolerance
            if (
                found := _value_difference(expected[key], actual[key], f"{path}[{key!r}]", below)
            ) is not None:
                return found
        return None
    if isinstance(expected, (list, tuple)):
        if len(expected) != len(actual):
            return f"{path}: length {len(expected)} != {len(actual)}"
        for index, (left, right) in enumerate(zip(expected, actual)):
            if (found := _value_difference(left, right, f"{path}[{index}]", tolerance)) is not None:
                return found
        return None
    return None if expected == actual else f"{path}: {expected!r} != {actual!r}"


def _floats_match(expected: float, actual: float, tolerance: float | None) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if tolerance is None:
        return math.isclose(
            expected,
            actual,
            rel_tol=DISTANCE_RELATIVE_TOLERANCE,
            abs_tol=DISTANCE_ABSOLUTE_TOLERANCE,
        )
    return abs(expected - actual) <= tolerance


def _query_difference(call: Call, expected: dict[str, Any], actual: dict[str, Any]) -> str | None:
    """Same shape, and per query the same hits as the reference — or its exact answer.

    chromadb's approximate index sometimes misses a neighbour; the brute-force answer over its
    own records (EXACT_HITS) is then the result an exact engine should give.
    """
    shape_keys = set(expected) - {"hits", EXACT_HITS}
    header = {key: expected[key] for key in shape_keys}
    actual_header = {key: actual.get(key) for key in shape_keys}
    if (found := _value_difference(header, actual_header, "result")) is not None:
        return found
    if len(expected["hits"]) != len(actual["hits"]):
        return f"number of queries answered: {len(expected['hits'])} != {len(actual['hits'])}"
    n_results = call.kwargs.get("n_results", 10)
    for position, (wanted, got) in enumerate(zip(expected["hits"], actual["hits"])):
        found = _ranked_hits_difference(wanted, got, n_results)
        if found is None:
            continue
        exact = None if expected[EXACT_HITS] is None else expected[EXACT_HITS][position]
        if exact is None or _ranked_hits_difference(exact, got, n_results) is not None:
            exact_ids = None if exact is None else [hit["id"] for hit in exact]
            return f"query {position}: {found}\n      exact ids    {exact_ids}"
    return None


def _ranked_hits_difference(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]], n_results: int
) -> str | None:
    """Hits must agree group by group, where a group is a run of tied distances.

    Inside a group the order is free, so hits are compared sorted by id. A tie group cut off by
    n_results may legitimately hold different ids (any of the tied records may fill the last
    places), so for it only the distances are compared.
    """
    if len(expected) != len(actual):
        ids = ([hit["id"] for hit in expected], [hit["id"] for hit in actual])
        return f"{len(expected)} hits != {len(actual)} hits: {ids[0]} vs {ids[1]}"
    for start, end in _tie_groups([_distance(hit) for hit in expected]):
        wanted, got = expected[start:end], actual[start:end]
        cut_by_limit = end == len(expected) == n_results
        if cut_by_limit:
            wanted = [_distance(hit) for hit in wanted]
            got = [_distance(hit) for hit in got]
            path, tolerance = f"distances of the tied hits {start}..{end - 1}", None
        else:
            wanted = sorted(wanted, key=lambda hit: hit["id"])
            got = sorted(got, key=lambda hit: hit["id"])
            path, tolerance = f"hits {start}..{end - 1}", 0.0
        if (found := _value_difference(wanted, got, path, tolerance)) is not None:
            return f"{found}\n      expected ids {[h['id'] for h in expected]}\n      actual ids   {[h['id'] for h in actual]}"
    return None


def _distance(hit: dict[str, Any]) -> float:
    return hit["distances"] if "distances" in hit else hit[RANK_DISTANCE]


def _tie_groups(distances: list[float]) -> list[tuple[int, int]]:
    """[start, end) index ranges of runs of (chained) equal distances."""
    groups: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(distances) + 1):
        if index == len(distances) or abs(
            distances[index] - distances[index - 1]
        ) > TIE_TOLERANCE * max(1.0, abs(distances[index])):
            groups.append((start, index))
            start = index
    return groups


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def _failure_report(
    seed: int,
    calls: list[Call],
    expected: list[Observation],
    actual: list[Observation],
    differences: list[tuple[int, str]],
) -> str:
    first, detail = differences[0]
    lines = [
        f"seed {seed}: {len(differences)} of {len(calls)} calls differ; first at call {first}"
        + (" (later ones may follow from it)" if len(differences) > 1 else ""),
        f"  call:      {calls[first].describe(limit=3000)}",
        f"  chromadb:  {_clip(expected[first])}",
        f"  {TARGET + ':':10} {_clip(actual[first])}",
        f"  where:     {detail}",
        f"  other differing calls: {[index for index, _ in differences[1:]]}",
        f"  replay:    .venv/bin/python tests/differential/ops.py {seed} {TARGET} > replay.py",
        "  calls before it:",
        *(f"    {index:3d} {call.describe(limit=300)}" for index, call in enumerate(calls[:first])),
    ]
    return "\n".join(lines)


def _clip(observation: Observation, limit: int = 1500) -> str:
    text = repr(observation)
    return text if len(text) <= limit else text[:limit] + "…"
