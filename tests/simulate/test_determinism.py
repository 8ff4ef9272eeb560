"""Same seed and parameters: the same bytes; another seed: another city."""

from __future__ import annotations

from pathlib import Path

import pytest

from openscore.simulate.writer import Format, write_city

from .conftest import make_config


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("file_format", ["parquet", "jsonl"])
def test_same_seed_gives_identical_bytes(tmp_path: Path, file_format: Format) -> None:
    config = make_config(city={"members": 400, "months": 5, "seed": 3})
    write_city(config, tmp_path / "one", file_format=file_format)
    write_city(config, tmp_path / "two", file_format=file_format)
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert len(one) == 5 + 3  # five months, two truth tables, the summary
    assert one == two


def test_small_chunks_give_the_same_events(tmp_path: Path) -> None:
    from openscore.simulate.engine import simulate
    from openscore.simulate.writer import FileSink

    config = make_config(city={"members": 300, "months": 3, "seed": 5})
    simulate(config, FileSink(tmp_path / "big", "jsonl"))
    simulate(config, FileSink(tmp_path / "small", "jsonl"), chunk_rows=777)
    assert _files(tmp_path / "big") == _files(tmp_path / "small")


def test_another_seed_gives_another_city(tmp_path: Path) -> None:
    write_city(make_config(city={"members": 400, "months": 3, "seed": 3}), tmp_path / "a")
    write_city(make_config(city={"members": 400, "months": 3, "seed": 4}), tmp_path / "b")
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in a:
        if name != "truth/partners.parquet":  # the partners are the same in every city
            assert a[name] != b[name], name
