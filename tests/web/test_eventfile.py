"""Reading a partner's event file: JSON Lines or a JSON array, errors by line."""

from __future__ import annotations

import pytest

from openscore.errors import Invalid
from openscore.web.eventfile import EventFileError, LineError, read_event_file


class TestRead:
    def test_json_lines_remember_their_lines(self) -> None:
        found = read_event_file("e.jsonl", b'{"a": 1}\n\n  \n{"b": 2}\n')
        assert found.events == [{"a": 1}, {"b": 2}]
        assert found.lines == [1, 4]

    @pytest.mark.parametrize("data", [b'[{"a": 1}, {"b": 2}]', b'{"events": [{"a": 1}, {"b": 2}]}'])
    def test_json_array_by_position(self, data: bytes) -> None:
        found = read_event_file("e.json", data)
        assert found.events == [{"a": 1}, {"b": 2}]
        assert found.lines == [1, 2]

    def test_every_bad_line_is_named(self) -> None:
        with pytest.raises(EventFileError, match="not valid JSON") as caught:
            read_event_file("e.jsonl", b'{"a": 1}\n{oops\n[1]\n')
        assert [(e.line, e.message[:12]) for e in caught.value.errors] == [
            (2, "not valid JS"),
            (3, "each line mu"),
        ]

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"", "e.jsonl is empty"),
            (b"\xff\xfe", "not UTF-8"),
            (b"\n\n", "e.jsonl is empty"),
        ],
    )
    def test_unreadable_files(self, data: bytes, message: str) -> None:
        with pytest.raises(EventFileError, match=message):
            read_event_file("e.jsonl", data)

    def test_too_many_events(self) -> None:
        data = b"\n".join(b'{"a": 1}' for _ in range(10_001))
        with pytest.raises(EventFileError, match="10001 events; at most 10000 per file"):
            read_event_file("e.jsonl", data)


class TestLineErrors:
    def test_positions_become_lines(self) -> None:
        found = read_event_file("e.jsonl", b'{"a": 1}\n\n{"b": 2}\n')
        problem = Invalid(
            "2 problem(s)",
            errors=[
                {"index": 1, "field": "type", "message": "unknown"},
                {"index": 0, "field": None, "message": "bad"},
            ],
        )
        assert found.line_errors(problem) == [
            LineError(3, "type", "unknown"),
            LineError(1, None, "bad"),
        ]
