"""The `pipeline` subcommand (typer lives in the CLI layer only)."""
from __future__ import annotations

import sys
import typing
from typing import Optional

import typer

from corpuskit.cli.common import console, disk_error, fail, guarded, render_summary
from corpuskit.cli.stages import convert_cli_value, unwrap_optional
from corpuskit.core.errors import CorpusKitError, UsageError
from corpuskit.pipeline.config import PipelineConfig, load_config
from corpuskit.pipeline.config import print_config as _print_config
from corpuskit.pipeline.run import is_up_to_date, run_pipeline
from corpuskit.registry import get_stage_class


def add_pipeline_command(app: typer.Typer) -> None:
    @app.command("pipeline", help="Run every stage in order over raw/ into clean/, in parallel and "
                 "resumably (kept shards in data/, rejected/ per stage, quarantine/, stats.json, report).")
    @guarded("pipeline")
    def pipeline(
        raw: Optional[str] = typer.Argument(None, metavar="RAW", help="Folder, file, quoted glob or URL of raw input: "
                                            "JSONL records (plain, .gz, .zst), Parquet, Arrow, Hugging Face "
                                            "datasets folders, HTML pages, WARC files, URL lists."),
        clean: Optional[str] = typer.Argument(None, metavar="CLEAN", help="Output folder (created; a previous corpuskit "
                                              "result there is replaced when the run succeeds)."),
        config: Optional[str] = typer.Option(None, "--config", "-c", metavar="FILE", help="corpuskit.toml with "
                                             "[pipeline] settings and [stages.NAME] options ('-': "
                                             "read it from stdin)."),
        print_config: bool = typer.Option(False, "--print-config", help="Print a corpuskit.toml with "
                                          "every stage and option at its default, and exit."),
        stages: Optional[str] = typer.Option(None, "--stages", metavar="LIST", help="Comma-separated stage list "
                                             "(default: every stage in order)."),
        workers: Optional[int] = typer.Option(None, "--workers", "-j", metavar="N", help="Worker processes "
                                              "(default: one per core). The output does not depend on it."),
        shard_size: Optional[int] = typer.Option(None, "--shard-size", metavar="N", help="Records per output shard "
                                                 "(default 100000)."),
        compression: Optional[str] = typer.Option(None, "--compression", metavar="zst|gz|none",
                                              help="Compression of the output files (default zst)."),
        format_: Optional[str] = typer.Option(None, "--format", metavar="jsonl|parquet", help="Kept shards as jsonl (default) or "
                                              "parquet (zstd; one schema for every shard)."),
        limit: Optional[int] = typer.Option(None, "--limit", min=1, metavar="N", help="Only the first N records of "
                                            "each input (a dry run)."),
        strict: Optional[bool] = typer.Option(None, "--strict/--keep-going", help="Stop at the first bad "
                                              "input line, or quarantine it (default: keep going)."),
        set_: Optional[list[str]] = typer.Option(None, "--set", metavar="STAGE.OPTION=VALUE", help="Stage option, e.g. "
                                                 "--set filter-short.min_words=20 (repeatable; "
                                                 "overrides the config file)."),
        engine: Optional[str] = typer.Option(None, "--engine", metavar="local|ray", help="local (process pool, the default) "
                                             "| ray (units as Ray tasks; pip install 'corpuskit[ray]'). "
                                             "The output does not depend on it."),
        ray_address: Optional[str] = typer.Option(None, "--ray-address", metavar="ADDRESS", help="With --engine ray: join "
                                                  "this cluster ('auto', ray://host:10001); default: "
                                                  "start a local Ray."),
        tokenize: Optional[str] = typer.Option(None, "--tokenize", metavar="TOKENIZER", help="Also write the kept records as "
                                               "token shards to CLEAN/tokens/ with this tokenizer "
                                               "(cl100k_base, o200k_base, a tokenizer.json); other "
                                               "options in the config's [tokenize] section."),
        if_changed: bool = typer.Option(False, "--if-changed", help="Do nothing when CLEAN already holds "
                                        "the result of the same inputs (no file added, removed or "
                                        "modified) and configuration (what `make dataset` uses)."),
        quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress or summary on stderr."),
        verbose: bool = typer.Option(False, "-v", "--verbose", help="The full summary table on stderr "
                                     "even when it is not a terminal (there, the default is one line "
                                     "per stage: in = kept + rejected)."),
    ) -> None:
        try:
            if print_config:
                names = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
                sys.stdout.write(_print_config(names))
                return
            if raw is None or clean is None:
                raise UsageError("give RAW and CLEAN folders (or --print-config)")
            if "-" in (raw, clean):
                raise UsageError("RAW and CLEAN are folders (or files), not '-': the pipeline "
                                 "reads its inputs in units and resumes, so it cannot read a pipe; "
                                 "single stages read stdin")
            cfg = load_config(config) if config else PipelineConfig()
            if stages:
                cfg.stages = [s.strip() for s in stages.split(",") if s.strip()]
            for name, value in (("workers", workers), ("shard_size", shard_size),
                                ("compression", compression), ("format", format_), ("limit", limit),
                                ("strict", strict),
                                ("engine", engine), ("ray_address", ray_address)):
                if value is not None:
                    setattr(cfg, name, value)
            if tokenize:
                cfg.tokenize = {**(cfg.tokenize or {}), "tokenizer": tokenize}
            for stage, opts in parse_sets(set_ or []).items():
                cfg.options.setdefault(stage, {}).update(opts)
            cfg.__post_init__()
            if if_changed and is_up_to_date(raw, clean, cfg):
                if not quiet:
                    sys.stderr.write(f"corpuskit pipeline: {clean} is up to date (same inputs and "
                                     "configuration)\n")
                return
            bar = _PipelineProgress(not quiet)
            try:
                stats = run_pipeline(raw, clean, cfg, progress=bar.update)
            finally:
                bar.stop()
        except UsageError as e:
            raise fail("pipeline", str(e), 2) from None
        except CorpusKitError as e:
            raise fail("pipeline", str(e), e.exit_code) from None
        except OSError as e:
            msg = disk_error(e)
            if msg is None:
                raise
            raise fail("pipeline", msg, 1) from None
        render_summary("pipeline", stats, quiet, verbose)


class _PipelineProgress:
    """One live display for the run on stderr (only when it is a terminal): per stage records
    in, kept, dropped and docs/s, plus MB read and MB/s."""

    def __init__(self, enabled: bool):
        self._live = None
        if enabled and sys.stderr.isatty():
            from rich.live import Live

            self._live = Live(console=console(), transient=True, refresh_per_second=4)
            self._live.start()

    def update(self, ev: dict) -> None:
        if self._live is None:
            return
        from rich.table import Table

        secs = max(ev["seconds"], 1e-9)
        t = Table(title=f"corpuskit pipeline: {ev['phase']}, {ev['units']:,} units, "
                        f"{ev['bytes'] / 1e6:,.1f} MB read ({ev['bytes'] / 1e6 / secs:,.1f} MB/s)",
                  title_justify="left", show_edge=False)
        for col in ("stage", "in", "kept", "dropped", "docs/s"):
            t.add_column(col, justify="left" if col == "stage" else "right")
        for s in ev["stages"]:
            t.add_row(s["stage"], f"{s['in']:,}", f"{s['kept']:,}", f"{s['rejected']:,}", f"{s['in'] / secs:,.0f}")
        if ev["phase"] == "reduce":
            t.caption = "whole-stream stages (dedup, statistics) and writing the shards ..."
        self._live.update(t)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()


def parse_sets(items: list[str]) -> dict[str, dict]:
    """--set stage.option=value -> {stage: {option: typed value}} using the stage's field types."""
    out: dict[str, dict] = {}
    for item in items:
        key, eq, value = item.partition("=")
        stage, dot, opt = key.partition(".")
        if not eq or not dot:
            raise UsageError(f"--set {item!r}: expected STAGE.OPTION=VALUE")
        cls = get_stage_class(stage)
        opt = cls.option_name(opt)  # a deprecated alias warns and gives the current name
        fields = {f.name: f for f in cls.options()}
        if opt not in fields:
            raise UsageError(f"--set {item!r}: {stage} has no option {opt!r} "
                             f"(options: {', '.join(fields)})")
        out.setdefault(stage, {})[opt] = _typed(cls, opt, value, convert_cli_value)
    return out


def _typed(cls, name: str, value: str, convert):
    tp, _ = unwrap_optional(typing.get_type_hints(cls)[name])
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
