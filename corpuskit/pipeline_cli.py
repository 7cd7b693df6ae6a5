"""The `pipeline` subcommand (typer lives in the CLI layer only)."""
from __future__ import annotations

import typer

from .errors import CorpusKitError, UsageError


def add_pipeline_command(app: typer.Typer) -> None:
    @app.command("pipeline", help="Run every stage in its default order over raw/ into clean/ "
                 "(kept shards in data/, rejected/ per stage, quarantine/, stats.json, report.md).")
    def pipeline(
        raw: str = typer.Argument(..., help="Folder (or file) of raw input: JSONL records."),
        clean: str = typer.Argument(..., help="Output folder (created; a previous corpuskit result "
                                    "there is replaced when the run succeeds)."),
        stages: str | None = typer.Option(None, "--stages", help="Comma-separated stage list "
                                             "(default: every stage in order)."),
        shard_size: int = typer.Option(100_000, "--shard-size", help="Records per output shard."),
        compression: str = typer.Option("zst", "--compression", help="zst | gz | none"),
        strict: bool = typer.Option(False, "--strict", help="Stop at the first bad input line "
                                    "instead of quarantining it."),
        set_: list[str] | None = typer.Option(None, "--set", help="Stage option, e.g. "
                                                 "--set filter-short.min_words=20 (repeatable)."),
        quiet: bool = typer.Option(False, "-q", "--quiet", help="No summary on stderr."),
    ) -> None:
        from .cli import _fail, render_summary
        from .pipeline import PipelineConfig, run_pipeline

        try:
            cfg = PipelineConfig(
                stages=[s.strip() for s in stages.split(",") if s.strip()] if stages else
                PipelineConfig().stages,
                options=parse_sets(set_ or []), shard_size=shard_size, compression=compression,
                strict=strict)
            stats = run_pipeline(raw, clean, cfg)
        except UsageError as e:
            raise _fail("pipeline", str(e), 2) from None
        except CorpusKitError as e:
            raise _fail("pipeline", str(e), e.exit_code) from None
        render_summary("pipeline", stats, quiet)


def parse_sets(items: list[str]) -> dict[str, dict]:
    """--set stage.option=value -> {stage: {option: typed value}} using the stage's field types."""
    from .cli import convert_cli_value
    from .stage import get_stage_class

    out: dict[str, dict] = {}
    for item in items:
        key, eq, value = item.partition("=")
        stage, dot, opt = key.partition(".")
        if not eq or not dot:
            raise UsageError(f"--set {item!r}: expected STAGE.OPTION=VALUE")
        cls = get_stage_class(stage)
        opt = opt.replace("-", "_")
        fields = {f.name: f for f in cls.options()}
        if opt not in fields:
            raise UsageError(f"--set {item!r}: {stage} has no option {opt!r} "
                             f"(options: {', '.join(fields)})")
        out.setdefault(stage, {})[opt] = _typed(cls, opt, value, convert_cli_value)
    return out


def _typed(cls, name: str, value: str, convert):
    import typing

    from .cli import _unwrap_optional

    tp, _ = _unwrap_optional(typing.get_type_hints(cls)[name])
    try:
        if tp is bool:
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if tp in (int, float):
            return tp(value)
    except ValueError:
        raise UsageError(f"{cls.name}.{name}: {value!r} is not a valid {tp.__name__}") from None
    return convert(cls, name, value)
