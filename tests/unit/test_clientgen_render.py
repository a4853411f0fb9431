"""The TypeScript types generator without a database: type mapping, rendering,
error-code scanning (tests/db/test_clientgen.py runs it on the real catalog)."""

from __future__ import annotations

import pytest

from matching import clientgen as cg
from matching.clientgen import Catalog, ClientGenError, Column, Function, Param, Variant

ENUMS = {
    "public.feedback_type": ("applied", "interested"),
    "public.job_status": ("draft", "open", "closed"),
}


def catalog(*functions: Function, codes: tuple[str, ...] = ("42501", "MT001")) -> Catalog:
    return Catalog(
        functions=functions,
        enums=ENUMS,
        error_codes=codes,
        company_categories=("skills", "semantic"),
    )


def fn(
    name: str = "get_things",
    params: tuple[Param, ...] = (),
    columns: tuple[Column, ...] | None = (Column("id", "pg_catalog.uuid"),),
    *,
    returns_set: bool = True,
    return_type: str = "",
) -> Function:
    return Function(name, params, returns_set, columns, return_type)


def render(*functions: Function, shapes=None, non_null=None, variants=None) -> str:
    return cg.render(
        catalog(*functions),
        shapes=shapes or {},
        non_null=non_null or {},
        variants=variants or {},
    )


def test_names() -> None:
    assert cg.pascal_case("get_talent_matches") == "GetTalentMatches"
    assert cg.pascal_case("experience_level") == "ExperienceLevel"


@pytest.mark.parametrize(
    ("pg_type", "ts"),
    [
        ("pg_catalog.uuid", "string"),
        ("pg_catalog.text", "string"),
        ("pg_catalog.int2", "number"),
        ("pg_catalog.int4", "number"),
        ("pg_catalog.int8", "number"),
        ("pg_catalog.numeric", "number"),
        ("pg_catalog.float4", "number"),
        ("pg_catalog.float8", "number"),
        ("pg_catalog.bool", "boolean"),
        ("pg_catalog.timestamptz", "string"),
        ("pg_catalog.date", "string"),
        ("pg_catalog.text[]", "string[]"),
        ("public.job_status", "JobStatus"),
        ("public.job_status[]", "JobStatus[]"),
    ],
)
def test_type_mapping(pg_type: str, ts: str) -> None:
    text = render(fn(columns=(Column("x", pg_type),)), non_null={"get_things": frozenset({"x"})})
    assert f"  x: {ts};\n" in text


@pytest.mark.parametrize(
    "pg_type",
    ["pg_catalog.timestamp", "pg_catalog.bytea", "public.unknown_enum", "pg_catalog.interval[]"],
)
def test_an_unknown_type_fails(pg_type: str) -> None:
    with pytest.raises(ClientGenError, match="no TypeScript type"):
        render(fn(columns=(Column("x", pg_type),)))


@pytest.mark.parametrize("pg_type", ["pg_catalog.jsonb", "pg_catalog.json"])
def test_an_unmapped_json_value_fails(pg_type: str) -> None:
    with pytest.raises(ClientGenError, match="add it to SHAPES"):
        render(fn(columns=(Column("payload", pg_type),)))
    with pytest.raises(ClientGenError, match="add it to SHAPES"):
        render(fn(params=(Param("p_payload", pg_type, False),)))


def test_shapes_type_json_and_narrow_text() -> None:
    shapes = {
        "payload": ("pg_catalog.jsonb", "Record<string, number>"),
        "p_kind": ("pg_catalog.text", "FeedbackType"),
        "get_things.label": ("pg_catalog.text", "'a' | 'b'"),
    }
    f = fn(
        params=(Param("p_kind", "pg_catalog.text", False),),
        columns=(Column("payload", "pg_catalog.jsonb"), Column("label", "pg_catalog.text")),
    )
    text = render(f, shapes=shapes)
    assert "  p_kind: FeedbackType;\n" in text
    assert "  payload: Record<string, number> | null;\n" in text
    assert "  label: 'a' | 'b' | null;\n" in text
    # "function.name" applies to that function only
    other = fn("other_things", columns=(Column("label", "pg_catalog.text"),))
    assert "  label: string | null;\n" in render(f, other, shapes=shapes)


def test_a_shape_for_another_declared_type_fails() -> None:
    shapes = {"payload": ("pg_catalog.jsonb", "Record<string, number>")}
    with pytest.raises(ClientGenError, match=r"expects pg_catalog\.jsonb"):
        render(fn(columns=(Column("payload", "pg_catalog.text"),)), shapes=shapes)


def test_an_unused_shape_fails() -> None:
    with pytest.raises(ClientGenError, match="SHAPES entries match no"):
        render(fn(), shapes={"gone": ("pg_catalog.jsonb", "X")})


def test_columns_are_nullable_unless_listed() -> None:
    f = fn(columns=(Column("id", "pg_catalog.uuid"), Column("city", "pg_catalog.text")))
    text = render(f, non_null={"get_things": frozenset({"id"})})
    assert "  id: string;\n  city: string | null;\n" in text


@pytest.mark.parametrize(
    ("non_null", "problem"),
    [
        ({"gone": frozenset({"id"})}, "gone is no API function"),
        ({"get_things": frozenset({"nope"})}, "get_things.nope is no result column"),
    ],
)
def test_a_stale_non_null_entry_fails(non_null: dict[str, frozenset[str]], problem: str) -> None:
    with pytest.raises(ClientGenError, match=problem):
        render(fn(), non_null=non_null)


def test_arguments_with_defaults_are_optional() -> None:
    f = fn(
        params=(
            Param("p_id", "pg_catalog.uuid", False),
            Param("p_limit", "pg_catalog.int4", True),
            Param("p_status", "public.job_status", True),
        )
    )
    text = render(f)
    assert (
        "export type GetThingsArgs = {\n  p_id: string;\n  p_limit?: number;\n"
        "  p_status?: JobStatus;\n};" in text
    )


def test_functions_without_arguments_take_an_empty_object() -> None:
    assert "export type GetThingsArgs = Record<string, never>;" in render(fn())


def test_set_and_scalar_results() -> None:
    scalar = fn("activate", columns=None, returns_set=False, return_type="pg_catalog.text")
    one_row = fn("one_row", returns_set=False)
    text = render(fn(), scalar, one_row, non_null={"activate": frozenset({cg.RESULT})})
    assert "  get_things: { Args: GetThingsArgs; Returns: GetThingsRow[] };" in text
    assert "  activate: { Args: ActivateArgs; Returns: string };" in text
    assert "  one_row: { Args: OneRowArgs; Returns: OneRowRow | null };" in text
    assert "ActivateRow" not in text
    # a scalar not listed in NON_NULL may be null
    assert "Returns: string | null }" in render(scalar)


def test_function_rows() -> None:
    row = {
        "name": "get_things",
        "returns_set": True,
        "n_defaults": 1,
        "return_type": "pg_catalog.record",
        "comment": "Things,\n  best first.",
        "args": [
            {"name": "p_id", "mode": "i", "type": "pg_catalog.uuid"},
            {"name": "p_limit", "mode": "i", "type": "pg_catalog.int4"},
            {"name": "id", "mode": "t", "type": "pg_catalog.uuid"},
        ],
    }
    f = cg.function_from_row(row)
    assert f.params == (
        Param("p_id", "pg_catalog.uuid", False),
        Param("p_limit", "pg_catalog.int4", True),
    )
    assert f.columns == (Column("id", "pg_catalog.uuid"),)
    assert f.comment == "Things, best first."
    scalar = cg.function_from_row(
        {**row, "args": row["args"][:1], "return_type": "pg_catalog.text"}
    )
    assert scalar.columns is None and scalar.return_type == "pg_catalog.text"
    with pytest.raises(ClientGenError, match="returns record"):
        cg.function_from_row({**row, "args": row["args"][:1]})
    with pytest.raises(ClientGenError, match="unnamed argument"):
        cg.function_from_row({**row, "args": [{"name": "", "mode": "i", "type": "x"}]})


def test_rendering_is_deterministic() -> None:
    a, b = fn("b_things"), fn("a_things")
    first = render(a, b)
    assert first == render(b, a)
    assert first.startswith(cg.HEADER + "\n")
    assert first.index("export type AThingsArgs") < first.index("export type BThingsArgs")
    assert "export const FUNCTION_NAMES = [\n  'a_things',\n  'b_things',\n] as const" in first
    assert "export const ERROR_CODES = [\n  '42501',\n  'MT001',\n] as const;" in first
    assert "export type ErrorCode = (typeof ERROR_CODES)[number];" in first


def test_enums_and_scores() -> None:
    text = render(fn())
    assert "export type JobStatus = 'draft' | 'open' | 'closed';" in text
    assert (
        "export const JOB_STATUS_VALUES: readonly JobStatus[] = ['draft', 'open', 'closed'];"
        in (text)
    )
    assert "export type CompanyScoreCategory = 'skills' | 'semantic';" in text
    assert "export type JobSortKey = 'score' | CompanyScoreCategory;" in text
    assert "export type SubScores = { [K in ScoreCategory]?: number };" in text
    assert "export type CompanySubScores = { [K in CompanyScoreCategory]?: number };" in text
    assert "export interface TopReason {\n  feature: string;\n  contribution: number;\n" in text


def test_clashing_type_names_fail() -> None:
    with pytest.raises(ClientGenError, match="clash"):
        cg.render(
            Catalog((fn("job_status"),), {**ENUMS, "public.job_status_args": ("a",)}, (), ()),
            shapes={},
            non_null={},
            variants={},
        )


def test_the_real_tables_type_the_company_view_and_the_context_rows() -> None:
    assert cg.SHAPES["get_job_matches.sub_scores"] == ("pg_catalog.jsonb", "CompanySubScores")
    assert cg.SHAPES["sub_scores"] == ("pg_catalog.jsonb", "SubScores")
    tag, kinds = cg.VARIANTS["get_my_context"]
    assert tag == "kind" and [k.tag for k in kinds] == ["talent", "job"]


# -------------------------------------------------------------------- variants

CONTEXT = fn(
    "get_context",
    columns=(
        Column("kind", "pg_catalog.text"),
        Column("id", "pg_catalog.uuid"),
        Column("status", "public.job_status"),
        Column("note", "pg_catalog.text"),
    ),
)
CONTEXT_NON_NULL = {"get_context": frozenset({"kind", "id"})}


def test_variants_render_a_discriminated_union() -> None:
    variants = {
        "get_context": (
            "kind",
            (
                Variant("talent", null=frozenset({"status"})),
                Variant("job", non_null=frozenset({"status"})),
            ),
        )
    }
    text = render(CONTEXT, non_null=CONTEXT_NON_NULL, variants=variants)
    assert (
        "export type GetContextRow =\n"
        "  | {\n"
        "      kind: 'talent';\n"
        "      id: string;\n"
        "      status: null;\n"
        "      note: string | null;\n"
        "    }\n"
        "  | {\n"
        "      kind: 'job';\n"
        "      id: string;\n"
        "      status: JobStatus;\n"
        "      note: string | null;\n"
        "    };\n"
    ) in text
    # without an entry, the same function is one object type
    assert "export type GetContextRow = {\n  kind: string;\n" in render(
        CONTEXT, non_null=CONTEXT_NON_NULL
    )


@pytest.mark.parametrize(
    ("variants", "problem"),
    [
        ({"gone": ("kind", (Variant("a"), Variant("b")))}, "gone is no API function"),
        ({"get_context": ("id", (Variant("a"), Variant("b")))}, "id is no text column"),
        ({"get_context": ("note", (Variant("a"), Variant("b")))}, "note is not in NON_NULL"),
        ({"get_context": ("kind", (Variant("a"),))}, "not two or more distinct"),
        ({"get_context": ("kind", (Variant("a"), Variant("a")))}, "not two or more distinct"),
        (
            {"get_context": ("kind", (Variant("a", null=frozenset({"nope"})), Variant("b")))},
            "get_context.nope is no result column",
        ),
        (
            {"get_context": ("kind", (Variant("a", null=frozenset({"id"})), Variant("b")))},
            r"\(a\): id is both null and set",
        ),
        (
            {
                "get_context": (
                    "kind",
                    (
                        Variant("a", null=frozenset({"note"}), non_null=frozenset({"note"})),
                        Variant("b"),
                    ),
                )
            },
            r"\(a\): note is both null and set",
        ),
        (
            {"get_context": ("kind", (Variant("a", null=frozenset({"kind"})), Variant("b")))},
            "the tag column kind is listed",
        ),
    ],
)
def test_a_stale_variants_entry_fails(
    variants: dict[str, tuple[str, tuple[Variant, ...]]], problem: str
) -> None:
    with pytest.raises(ClientGenError, match=problem):
        render(CONTEXT, non_null=CONTEXT_NON_NULL, variants=variants)


# ------------------------------------------------------------------ error codes


def test_raised_codes() -> None:
    source = """
    begin
      -- raise exception using errcode = 'XX001' (a comment)
      raise notice 'raise this %', 1;
      if x then
        raise exception using errcode = 'MT001', message = 'a; b';
      end if;
      raise sqlstate 'PT429' using message = 'slow down', hint = 'retry in 1 seconds';
      /* raise exception using errcode = 'XX002'; */
      raise exception using message = format('x %s', 1), errcode = '42501';
    exception when others then
      raise;
    end
    """
    assert cg.raised_codes(source, "t") == {"MT001", "PT429", "42501"}


@pytest.mark.parametrize(
    "statement",
    [
        "raise exception 'no code';",
        "raise 'no level, no code %', x;",
        "raise exception using errcode = v_code;",
        "raise exception using errcode = 'unique_violation';",
        "raise unique_violation using message = 'x';",
    ],
)
def test_a_raise_without_a_literal_sqlstate_fails(statement: str) -> None:
    with pytest.raises(ClientGenError, match=r"t\.f"):
        cg.raised_codes(f"begin {statement} end", "t.f")


def test_reachable_error_codes_follow_qualified_calls() -> None:
    sources = {
        ("public", "api"): ["begin perform matching.helper(1); end"],
        ("matching", "helper"): [
            "begin raise exception using errcode = 'MT001'; perform matching.deeper(); end"
        ],
        ("matching", "deeper"): ["begin raise exception using errcode = 'MT404'; end"],
        ("matching", "unused"): ["begin raise exception using errcode = 'MT999'; end"],
        # a name in a comment is no call (one in a string may be: dynamic SQL)
        ("public", "other"): ["begin -- matching.unused()\n perform 1; end"],
    }
    assert cg.reachable_error_codes(sources, [("public", "api")]) == {"MT001", "MT404"}
    assert cg.reachable_error_codes(sources, [("public", "other")]) == set()


def test_internal_and_postgrest_codes_are_documented_choices() -> None:
    assert {"MT002", "MT003", "MT006"} <= cg.INTERNAL_CODES
    assert {"22P02", "22003", "23505", "25006", "42501"} == cg.POSTGREST_CODES
