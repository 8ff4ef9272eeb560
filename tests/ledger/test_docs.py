"""docs/events.md is the catalogue rendered, and its examples are valid events."""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path

import pytest

from openscore.ledger import catalogue, docs, examples
from openscore.ledger.canonical import Prepared
from openscore.ledger.catalogue import EVENT_MODELS, EVENT_TYPES, EventBase, type_fields
from openscore.ledger.docs import render_catalogue_markdown
from openscore.ledger.examples import EXAMPLES
from openscore.ledger.validation import parse_json, validation_context
from openscore.ledger.wide import wide_columns
from tests.ledger.strategies import NOW

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"
TYPES = sorted(EVENT_TYPES)


@pytest.fixture(scope="module")
def rendered() -> str:
    return render_catalogue_markdown()


def section(text: str, event_type: str) -> str:
    """The part of the page about one event type (up to the next heading of its level or above)."""
    match = re.search(rf"^### `{event_type}`\n(.*?)(?=^##)", text + "\n##", flags=re.M | re.S)
    assert match is not None, f"no section for {event_type}"
    return match.group(1)


class TestCommittedPage:
    def test_is_the_catalogue_rendered(self, rendered: str) -> None:
        committed = DOCS.read_text(encoding="utf-8")
        assert committed == rendered, (
            "docs/events.md is out of date with the catalogue; regenerate it with "
            f"`{docs.REGENERATE}` and commit the result"
        )

    @pytest.mark.parametrize("event_type", TYPES)
    def test_documents_every_type_with_all_its_fields(self, rendered: str, event_type: str) -> None:
        model = EVENT_TYPES[event_type]
        documented = re.findall(r"^\| `(\w+)` \|", section(rendered, event_type), flags=re.M)
        assert documented == list(type_fields(model))

    def test_documents_the_envelope(self, rendered: str) -> None:
        envelope = rendered.split("## The envelope", 1)[1].split("\n## ", 1)[0]
        documented = re.findall(r"^\| `(\w+)` \|", envelope, flags=re.M)
        assert documented == list(catalogue.ENVELOPE_FIELDS)

    def test_lists_every_wide_column(self, rendered: str) -> None:
        files = rendered.split("## Files: JSONL, CSV and Parquet", 1)[1].split("\n## ", 1)[0]
        assert re.findall(r"^\| `(\w+)` \| `", files, flags=re.M) == list(wide_columns())

    @pytest.mark.parametrize("event_type", TYPES)
    def test_shows_the_example_line(self, rendered: str, event_type: str) -> None:
        (block,) = re.findall(r"```json\n(.*?)\n```", section(rendered, event_type), flags=re.S)
        assert "\n" not in block
        assert json.loads(block) == EXAMPLES[event_type]

    @pytest.mark.parametrize(
        "words",
        [
            "integer number of minor units",
            "ISO 4217",
            "Idempotent on (`source`, `event_id`)",
            "Retractions.",
            "Enrolment first.",
            "Files are all or nothing.",
            "`--skip-invalid REJECTS.jsonl`",
            "*wide* table",
        ],
    )
    def test_explains_the_rules(self, rendered: str, words: str) -> None:
        assert words in rendered


class TestExamples:
    def test_there_is_one_for_every_type(self) -> None:
        assert sorted(EXAMPLES) == TYPES

    @pytest.mark.parametrize("event_type", TYPES)
    def test_each_validates_as_its_type(self, event_type: str) -> None:
        example = EXAMPLES[event_type]

        parsed = parse_json(json.dumps(example).encode(), validation_context(NOW))

        assert isinstance(parsed, Prepared), parsed
        assert (parsed.type, parsed.event_id) == (event_type, example["event_id"])

    @pytest.mark.parametrize("event_type", TYPES)
    def test_each_shows_every_field_of_its_type(self, event_type: str) -> None:
        model = EVENT_TYPES[event_type]
        assert list(EXAMPLES[event_type]) == [*catalogue.ENVELOPE_FIELDS, *type_fields(model)]


class TestRendering:
    def test_a_validator_without_words_stops_the_rendering(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delitem(docs.FIELD_RULES, "_not_self")
        with pytest.raises(
            KeyError, match=r"ConnectionMade\.peer_member_id: validator _not_self has no words"
        ):
            render_catalogue_markdown()

    def test_a_type_missing_from_the_groups_stops_the_rendering(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(docs, "GROUPS", docs.GROUPS[:-1])
        with pytest.raises(ValueError, match=r"missing \['EventRetracted'\]"):
            render_catalogue_markdown()

    def test_a_type_without_an_example_stops_the_rendering(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delitem(examples.EXAMPLES, "group_left")
        with pytest.raises(ValueError, match=r"no example of \['group_left'\]"):
            render_catalogue_markdown()


def attribute_docstrings(model: type[EventBase]) -> dict[str, str]:
    """The docstring written under each field in the model's source."""
    (tree,) = ast.parse(inspect.getsource(model)).body
    assert isinstance(tree, ast.ClassDef)
    found: dict[str, str] = {}
    for statement, following in zip(tree.body, tree.body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[statement.target.id] = inspect.cleandoc(following.value.value)
    return found


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m.__name__)
def test_every_field_is_described_by_its_own_docstring(model: type[EventBase]) -> None:
    described = {name: model.model_fields[name].description for name in type_fields(model)}
    assert described == attribute_docstrings(model)
