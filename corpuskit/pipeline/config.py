"""The pipeline's configuration: `PipelineConfig`, corpuskit.toml (load, validate, print)."""
from __future__ import annotations

import dataclasses
import os
import sys
import typing
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from corpuskit.core.errors import UsageError
from corpuskit.core.stage import SourceStage, Stage
from corpuskit.registry import (
    DEFAULT_PIPELINE,
    PIPELINE_STAGE_DEFAULTS,
    REGISTRY,
    get_stage_class,
    make_stage,
)

SUFFIX = {"zst": ".jsonl.zst", "gz": ".jsonl.gz", "none": ".jsonl"}


@dataclass
class PipelineConfig:
    stages: list[str] = field(default_factory=lambda: list(DEFAULT_PIPELINE))
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    shard_size: int = 100_000  # records per output shard
    compression: str = "zst"
    format: str = "jsonl"  # of the kept shards: jsonl (compressed as `compression` says) | parquet
    limit: int = 0  # only the first N records of each input (a dry run); 0: all
    strict: bool = False  # stop at the first bad input line instead of quarantining it
    workers: int = 0  # 0: one per CPU core
    unit_lines: int = 10_000
    unit_bytes: int = 64 * 1024 * 1024
    engine: str = "local"  # local (process pool) | ray (corpuskit.engine.ray)
    ray_address: str | None = None  # None: start a local Ray; "auto" or ray://host:port: join one
    # [tokenize]: options of the tokenize stage; when set, the kept records are also written as
    # token shards to clean/tokens/
    tokenize: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        # each message starts with the setting's name, so that a config file's error can say
        # where it is (load_config adds the file and the section)
        if self.engine not in ("local", "ray"):
            raise UsageError(f"engine: must be local or ray, not {self.engine!r}")
        if self.ray_address and self.engine != "ray":
            raise UsageError("ray_address: a Ray address needs --engine ray (engine = \"ray\" in a config)")
        if self.format not in ("jsonl", "parquet"):
            raise UsageError(f"format: must be jsonl or parquet, not {self.format!r}")
        if self.limit < 0:
            raise UsageError(f"limit: must be >= 0, not {self.limit!r}")
        if self.compression not in SUFFIX:
            raise UsageError(f"compression: must be one of {', '.join(SUFFIX)}, not {self.compression!r}")
        for name in ("shard_size", "unit_lines", "unit_bytes"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name}: must be >= 1, not {getattr(self, name)!r}")
        if self.workers < 0:
            raise UsageError(f"workers: must be >= 0, not {self.workers!r}")
        if not self.stages:
            raise UsageError("stages: the pipeline needs at least one stage")
        for name in list(self.stages) + list(self.options):
            if name not in REGISTRY:
                raise UsageError(f"stages: unknown stage {name!r} (known: {', '.join(REGISTRY)})")
        for name in self.stages:
            if not get_stage_class(name).in_pipeline:
                hint = ("use the [tokenize] section or --tokenize NAME" if name == "tokenize"
                        else f"run `corpuskit {name}` before the pipeline")
                raise UsageError(f"stages: {name} is not a step of the pipeline's chain: {hint}")

    def build(self) -> list[Stage]:
        """The chain. `fetch` (a source: it reads URL lists, WARC files and page folders) is not
        part of it; its options are used for the URL lists in raw/."""
        stages = [make_stage(n, **{**PIPELINE_STAGE_DEFAULTS.get(n, {}), **self.options.get(n, {})})
                  for n in self.stages]
        return [s for s in stages if not isinstance(s, SourceStage)]

    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1

    def fingerprint(self) -> dict:
        """What the output depends on (workers and engine excluded: they do not change it, so
        a run killed on one engine resumes on the other)."""
        d = asdict(self)
        for k in ("workers", "engine", "ray_address", "tokenize"):  # tokens are made after the units
            d.pop(k)
        return d


def load_config(path: str) -> PipelineConfig:
    """Read corpuskit.toml: [pipeline] keys and [stages.NAME] option tables, validated."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        if path == "-":  # `corpuskit pipeline --print-config | sed ... | corpuskit pipeline ... -c -`
            path = "<stdin>"
            data = tomllib.loads(sys.stdin.read())
        else:
            with open(path, "rb") as f:
                data = tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: invalid TOML ({e})") from None
    known = {"stages", "shard_size", "compression", "format", "limit", "strict", "workers", "unit_lines",
             "unit_bytes", "engine", "ray_address"}
    for key, value in data.items():
        if key in ("pipeline", "stages", "tokenize") and isinstance(value, dict):
            continue
        if key in known:  # `stages = [...]` above any table: a [pipeline] setting out of place
            raise UsageError(f"{path}: {key} = {_short(value)} is outside any table: put it under "
                             f"[pipeline]")
        if key in ("pipeline", "stages", "tokenize"):
            raise UsageError(f"{path}: {key} must be a table ([{key}]{'.NAME' if key == 'stages' else ''}), "
                             f"not {_short(value)}")
        raise UsageError(f"{path}: unknown {'section [' + key + ']' if isinstance(value, dict) else 'key ' + key} "
                         "(sections: [pipeline], [stages.NAME], [tokenize])")
    pl = dict(data.get("pipeline", {}))
    for k in sorted(set(pl) - known):
        raise UsageError(f"{path}: [pipeline] {k}: unknown setting (settings: {', '.join(sorted(known))})")
    for k in ("shard_size", "workers", "unit_lines", "unit_bytes", "limit"):
        if k in pl and (not isinstance(pl[k], int) or isinstance(pl[k], bool)):
            raise UsageError(f"{path}: [pipeline] {k}: must be an integer, not {_short(pl[k])}")
    for k in ("engine", "ray_address", "compression", "format"):
        if k in pl and not isinstance(pl[k], str):
            raise UsageError(f"{path}: [pipeline] {k}: must be a string, not {_short(pl[k])}")
    if "strict" in pl and not isinstance(pl["strict"], bool):
        raise UsageError(f"{path}: [pipeline] strict: must be true or false, not {_short(pl['strict'])}")
    if "stages" in pl and (not isinstance(pl["stages"], list)
                           or not all(isinstance(s, str) for s in pl["stages"])):
        raise UsageError(f"{path}: [pipeline] stages: must be a list of stage names, not {_short(pl['stages'])}")
    options: dict[str, dict] = {}
    for name, opts in data.get("stages", {}).items():
        if name not in REGISTRY:
            raise UsageError(f"{path}: [stages.{name}]: unknown stage (known: {', '.join(REGISTRY)})")
        if not isinstance(opts, dict):
            raise UsageError(f"{path}: stages.{name}: must be a table [stages.{name}], not {_short(opts)}")
        options[name] = validate_options(get_stage_class(name), opts, where=f"{path}: [stages.{name}]")
    tokenize = None
    if "tokenize" in data:
        tokenize = validate_options(get_stage_class("tokenize"), data["tokenize"], where=f"{path}: [tokenize]")
    try:
        return PipelineConfig(options=options, tokenize=tokenize, **pl)
    except UsageError as e:  # a value out of range: its message starts with the key
        raise UsageError(f"{path}: [pipeline] {e}") from None


def _short(value: Any, width: int = 40) -> str:
    r = _toml(value) if isinstance(value, (bool, int, float, str, list, dict)) else repr(value)
    return r if len(r) <= width else r[: width - 1] + "…"


def validate_options(cls: type[Stage], opts: dict, where: str) -> dict:
    """Check option names and types against the stage's dataclass fields."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in cls.options()}
    out = {}
    for key, value in opts.items():
        name = cls.option_name(key)  # a deprecated alias warns and gives the current name
        if name not in fields:
            raise UsageError(f"{where} {key}: unknown option (options: {', '.join(fields)})")
        tp = hints[name]
        origin = typing.get_origin(tp)
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        base = args[0] if origin is not None and len(args) == 1 and origin is not list else tp
        ok = True
        if base is bool:
            ok = isinstance(value, bool)
        elif base is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif base is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif base is str:
            ok = isinstance(value, str)
        elif typing.get_origin(base) is list or base is list:
            ok = isinstance(value, list)
        elif typing.get_origin(base) is typing.Literal:
            ok = value in typing.get_args(base)
        if value is None and type(None) in typing.get_args(tp):
            ok = True
        if not ok:
            raise UsageError(f"{where} {key}: must be {_type_name(tp)}, not {_short(value)}")
        out[name] = value
    try:
        cls(**out)
    except (TypeError, ValueError) as e:  # a value the stage refuses: name its key when we can
        msg = str(e)
        key = next((k for k in opts if f"--{k.replace('_', '-')}" in msg
                    or f"--{cls.option_name(k).replace('_', '-')}" in msg), None)
        raise UsageError(f"{where} {key}: {msg}" if key else f"{where}: {msg}") from None
    return out


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def print_config(stage_names: list[str] | None = None) -> str:
    """A complete corpuskit.toml: every stage and option, with defaults and help as comments."""
    names = stage_names or list(DEFAULT_PIPELINE)
    d = PipelineConfig(stages=names)
    out = ["# corpuskit.toml: every pipeline setting and stage option, with its default.",
           "# Generated by `corpuskit pipeline --print-config`; delete what you do not change.", "",
           "[pipeline]", f"stages = {_toml(names)}",
           f"shard_size = {d.shard_size}  # records per output shard",
           f'compression = "{d.compression}"  # zst | gz | none',
           f'format = "{d.format}"  # of the kept shards: jsonl | parquet (zstd inside; rejected/ stays JSONL)',
           "limit = 0  # only the first N records of each input (a dry run); 0: all",
           "strict = false  # stop at the first bad input line instead of quarantining it",
           "workers = 0  # 0: one per CPU core; the output does not depend on it",
           f"unit_lines = {d.unit_lines}  # lines per unit of work (and of resumption)",
           f"unit_bytes = {d.unit_bytes}  # bytes per unit of work, at most",
           'engine = "local"  # local | ray (pip install \'corpuskit[ray]\'); the output does not depend on it',
           '# ray_address = "auto"  # join a running Ray cluster (default: start a local one)', ""]
    for name in REGISTRY:
        cls = get_stage_class(name)
        opts = cls.options()
        if not opts or not cls.in_pipeline:
            continue
        # a stage scoring with the user's model file is off unless chosen: its section is
        # commented out (uncomment it, give the model and add the stage to `stages`)
        hide = "# " if cls.needs_model and name not in names else ""
        if hide:
            out.append(f"# [stages.{name}]  # off by default: needs your model file (add {name!r} to stages)")
        else:
            out.append(f"[stages.{name}]" + ("" if name in names else "  # not in the default chain"))
        for f in opts:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            help_ = f.metadata.get("help", "")
            if f.name in PIPELINE_STAGE_DEFAULTS.get(name, {}):
                default = PIPELINE_STAGE_DEFAULTS[name][f.name]
                help_ += " (the pipeline's default)"
            if default is None:
                out.append(f"# {f.name} =   # {help_} (default: unset)")
            else:
                out.append(f"{hide}{f.name} = {_toml(default)}  # {help_}")
        out.append("")
    tok = get_stage_class("tokenize")
    out += ["# [tokenize]: also write the kept records as token shards to clean/tokens/ (or --tokenize NAME);",
            "# the options of `corpuskit tokenize`:", "# [tokenize]"]
    for f in tok.options():
        if not f.metadata.get("cli", True):
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append(f"# {f.name} = {_toml(default)}  # {f.metadata.get('help', '')}")
    out.append("")
    return "\n".join(out)


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return orjson.dumps(v).decode()
    if isinstance(v, (list, tuple, set)):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")
