"""Scan-wide ids: one id per value and per tuple across batches, nulls and empty strings apart,
and a judge that asks the gate once per tuple per scan and decides each record as a fresh one."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.rules.ruleset import RuleSet
from policyengine.scan import columns, keys
from policyengine.scan.batch import Batch
from policyengine.scan.fields import PROVENANCE
from policyengine.scan.gate import Gate, Key, Outcome
from policyengine.scan.judge import Judge, judge
from policyengine.scan.keys import NULL, Lookup, Tuples, Values

from .conftest import DEEPSEEK, OPENAI, TARGET


def test_a_value_keeps_its_id_across_batches_and_null_is_never_a_string() -> None:
    """Null is 0; "" is a value of its own; a value read again, plain or from a dictionary,
    has the id it had."""
    values = Values()
    first = values.ids(pa.array(["a", None, "", "b", "a"]))
    assert first is not None
    assert first.to_pylist() == [1, NULL, 2, 3, 1]
    again = values.ids(pa.array(["b", "c", None, ""]).dictionary_encode())
    assert again is not None
    assert again.to_pylist() == [3, 4, NULL, 2]
    plain_after_dictionary = values.ids(pa.array(["c", "d", "a"]))
    assert plain_after_dictionary is not None
    assert plain_after_dictionary.to_pylist() == [4, 5, 1]
    assert values.values == [None, "a", "", "b", "c", "d"]
    assert values.ids(pa.nulls(3, pa.string())) is None


def test_a_dictionary_is_mapped_once_and_never_mistaken_for_another() -> None:
    """Batches sharing one dictionary (a Parquet row group's) map it once; another dictionary of
    the same length, or one that grew, maps by its own values; one longer than its batch is
    decoded instead."""
    values = Values()
    dictionary = pa.array(["x", "y", "z"])
    shared = [
        pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), dictionary)
        for indices in ([0, 1, None, 2], [2, 2, 0, 1])
    ]
    assert [values.ids(column).to_pylist() for column in shared] == [[1, 2, NULL, 3], [3, 3, 1, 2]]
    assert len(values._dictionaries) == 1
    other = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, 2], pa.int32()), pa.array(["z", "w", "x"])
    )
    assert values.ids(other).to_pylist() == [3, 4, 1]
    grown = pa.DictionaryArray.from_arrays(
        pa.array([3, 0], pa.int32()), pa.array(["x", "y", "z", "v"])
    )
    assert values.ids(grown).to_pylist() == [5, 1]
    long = pa.DictionaryArray.from_arrays(pa.array([1], pa.int32()), pa.array(["a", "w", "b"]))
    assert values.ids(long).to_pylist() == [4]
    assert values.values == [None, "x", "y", "z", "w", "v"]


def test_normalized_values_share_an_id() -> None:
    """Dates with a time become their day: the same id as the day itself, in any batch."""
    days = Values(columns.days)
    first = days.ids(pa.array(["2025-02-10T08:00:00Z", "2025-02-10", "soon", None]))
    assert first is not None
    assert first.to_pylist() == [1, 1, 2, NULL]
    second = days.ids(pa.array(["2025-02-10 23:59", "2025-02-11"]).dictionary_encode())
    assert second is not None
    assert second.to_pylist() == [1, 3]
    assert days.values == [None, "2025-02-10", "soon", "2025-02-11"]


def _direct(ids: pa.Array, size: int) -> Lookup:
    """Value ids (not null, below ``size``) as a lookup through a table that maps each to itself."""
    return Lookup(ids, pa.array([*range(size), NULL], pa.int64()))


@pytest.fixture(params=["native", "arrow"])
def packing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Tuples packed by the C extension, and by Arrow as without it."""
    if request.param == "native" and keys.native is None:
        pytest.skip("the C extension was not built (no C compiler)")
    if request.param == "arrow":
        monkeypatch.setattr(keys, "native", None)
    return str(request.param)


@pytest.mark.parametrize("width", [4, 70], ids=["packed", "too wide to pack"])
def test_tuples_keep_their_ids_whether_packed_or_numbered_by_batch(
    width: int, packing: str
) -> None:
    """The same tuple has the same id in every batch, whichever way the batch was numbered."""
    tuples = Tuples()
    sizes = [1 << width, 5]
    a = _direct(pa.array([3, 3, 0, 1], pa.int64()), 4)
    b = pa.array([1, 1, 2, 0], pa.int64())
    first, known, _ = tuples.ids([a, _direct(b, 5)], sizes, 4)
    assert known == 0
    assert first.to_pylist() == [0, 0, 1, 2]
    assert tuples.tuples == [(3, 1), (0, 2), (1, 0)]
    second, known, _ = tuples.ids([_direct(pa.array([1, 3], pa.int64()), 4), None], sizes, 2)
    assert known == 3
    assert second.to_pylist() == [2, 3]  # (1, 0) known, (3, 0) new
    third, _, _ = tuples.ids(
        [_direct(pa.array([0, 1], pa.int64()), 4), _direct(b.slice(2, 2), 5)], sizes, 2
    )
    assert third.to_pylist() == [1, 2]
    nothing, _, _ = tuples.ids([None, None], sizes, 3)
    assert nothing.to_pylist() == [4, 4, 4]
    assert tuples.tuples[4] == (NULL, NULL)


def test_tuples_repack_when_a_column_outgrows_its_bits(packing: str) -> None:
    """Ids stay put when a column gains values and the packing widens."""
    tuples = Tuples()
    narrow = [_direct(pa.array([1, 2], pa.int64()), 3), _direct(pa.array([1, 1]), 2)]
    first, _, _ = tuples.ids(narrow, [3, 2], 2)
    wide = [
        _direct(pa.array([2, 1, 300], pa.int64()), 301),
        _direct(pa.array([1, 1, 1], pa.int64()), 2),
    ]
    second, _, _ = tuples.ids(wide, [301, 2], 3)
    assert first.to_pylist() == [0, 1]
    assert second.to_pylist() == [1, 0, 2]


@settings(max_examples=150, deadline=None)
@given(
    columns=st.lists(
        st.lists(st.none() | st.integers(0, 6), min_size=12, max_size=12), min_size=1, max_size=6
    ),
    cut=st.integers(0, 6),
    wide=st.booleans(),
)
def test_packing_in_c_numbers_tuples_as_arrow_does(
    columns: list[list[int | None]], cut: int, wide: bool
) -> None:
    """Nulls, sliced and 32- or 64-bit indices, tables of shuffled ids, two batches in a row: the
    C extension and Arrow give every row the same id and learn the same tuples."""
    if keys.native is None:
        pytest.skip("the C extension was not built (no C compiler)")
    kind = pa.int64() if wide else pa.int32()
    parts = []
    for n, column in enumerate(columns):
        indices = pa.array(column, kind).slice(cut)
        table = pa.array([*((7 * i + n) % 11 + 1 for i in range(7)), NULL], pa.int64())
        parts.append(None if indices.null_count == len(indices) else Lookup(indices, table))
    sizes = [12] * len(columns)
    built = keys.native
    found = []
    try:
        for native in (built, None):
            keys.native = native
            tuples = Tuples()
            ids = []
            for _ in range(2):
                codes, _, counts = tuples.ids(parts, sizes, 12 - cut)
                ids.append(codes.to_pylist())
                if counts is not None:  # counted on the way: the rows of each id
                    expected = [ids[-1].count(i) for i in range(len(tuples.tuples))]
                    assert counts.to_pylist() == expected
            found.append((ids, tuples.tuples))
    finally:
        keys.native = built
    assert found[0] == found[1]


class CountingGate(Gate):
    """A gate that counts the tuples it decides."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.decided: list[Key] = []

    def _decide(self, key: Key) -> Outcome:
        self.decided.append(key)
        return super()._decide(key)


def _batch(rows: list[dict[str, Any]], *, dictionaries: bool = False) -> Batch:
    provenance = {}
    for name in PROVENANCE:
        column = pa.array([row.get(name) for row in rows], pa.string())
        provenance[name] = column.dictionary_encode() if dictionaries else column
    return Batch(
        provenance=provenance,
        problem=pa.array([row.get("problem") for row in rows], pa.string()),
        text=pa.array([row.get("text") for row in rows], pa.string()),
        first_line=1,
    )


BATCHES = [
    [DEEPSEEK, OPENAI, {"provider": None}, {"provider": ""}, {}, DEEPSEEK],
    [
        {"provider": ""},
        {**DEEPSEEK, "generated_at": "2025-02-10T12:00:00Z"},
        {"provider": "None"},
        {},
        {"problem": "not JSON"},
    ],
    [OPENAI, {"provider": None, "model": ""}, {"provider": "", "model": None}, DEEPSEEK],
]


def test_a_judge_asks_the_gate_once_per_tuple_and_decides_as_a_fresh_one(
    bundled: RuleSet,
) -> None:
    """Across batches (plain and dictionary columns, nulls and empty strings) each record gets
    the outcome a judge new to its batch gives it; each distinct tuple is decided once."""
    gate = CountingGate(bundled, TARGET, "distillation")
    scan_judge = Judge(gate)
    for number, rows in enumerate(BATCHES):
        batch = _batch(rows, dictionaries=number == 1)
        judged = scan_judge(batch)
        fresh = judge(_batch(rows), Gate(bundled, TARGET, "distillation"))
        mine = [judged.outcomes[code] for code in judged.codes.to_pylist()]
        theirs = [fresh.outcomes[code] for code in fresh.codes.to_pylist()]
        assert mine == theirs
        assert judged.allowed.to_pylist() == [outcome.allowed for outcome in theirs]
    assert len(gate.decided) == len(set(gate.decided)) == len(scan_judge.decisions)
    by_provider = {key[0]: outcome for key, outcome in zip(*_table(scan_judge), strict=True)}
    assert by_provider[None].problem is not None
    assert by_provider[""].problem is not None
    assert by_provider[None].reason != by_provider[""].reason  # null and "" are not merged
    assert not by_provider["None"].allowed  # the string "None" is an unknown provider


def _table(scan_judge: Judge) -> tuple[list[Key], list[Outcome]]:
    return scan_judge.decisions.keys, scan_judge.decisions.outcomes
