"""Commands of stages that write a model rather than records (`train-quality`): the options
come from the stage's dataclass as for every stage; -o is the model file."""
from __future__ import annotations

from typing import Any, Optional

import typer

from corpuskit.cli.common import command_errors, guarded, render_tables
from corpuskit.cli.stages import convert_cli_value, register_command, stage_cli_params
from corpuskit.core.errors import UsageError
from corpuskit.io.targets import check_distinct_outputs, check_outputs_not_inputs, write_target
from corpuskit.io.writer import write_json_atomic
from corpuskit.registry import get_stage_class

_COMMON = [
    ("cli_output", Optional[str], typer.Option(None, "-o", "--output", metavar="MODEL", help="The model file "
     "to write (.bin; .ftz for a quantized one); replaced only when training succeeds.")),
    ("cli_stats", Optional[str], typer.Option(None, "--stats", metavar="FILE", help="Write the report "
     "(counts, held-out figures, settings) as JSON here.")),
    ("cli_quiet", bool, typer.Option(False, "-q", "--quiet", help="No report on stderr.")),
]


def add_model_stage_command(app: typer.Typer, name: str) -> None:
    cls = get_stage_class(name)
    params = stage_cli_params(cls)

    def command(**kw: Any) -> None:
        guarded(name)(_run)(name, cls, params, kw)

    register_command(app, name, cls, command, _COMMON, params)


def _run(name: str, cls: Any, params: list, kw: dict) -> None:
    quiet = kw["cli_quiet"]
    with command_errors(name):
        stage_kw = {p[0]: convert_cli_value(cls, p[0], kw[p[0]]) for p in params}
        if not kw["cli_output"]:
            raise UsageError("give the model's path with -o MODEL.bin")
        stage = cls.from_options(**stage_kw)
        outputs = {"-o": kw["cli_output"], "--stats": kw["cli_stats"]}
        check_distinct_outputs(outputs)
        check_outputs_not_inputs(outputs, stage.input_files())  # before the training
        if kw["cli_stats"]:
            write_target(kw["cli_stats"])  # a folder: refused now, not after the training
        report = stage.train(kw["cli_output"])
        if kw["cli_stats"]:
            write_json_atomic(kw["cli_stats"], report)
    render_tables(stage.tables(), quiet, verbose=True)
