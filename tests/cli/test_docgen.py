"""docs/cli.md is generated from the code: it must be current, and nothing may be undocumented."""
from pathlib import Path

from corpuskit.cli import docgen
from corpuskit.registry import REGISTRY, get_stage_class

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == docgen.render(), \
        "docs/cli.md is stale: run `make docs` (python -m corpuskit.cli.docgen > docs/cli.md)"


def test_every_command_option_and_reason_is_documented():
    cmds = docgen.commands()
    assert set(REGISTRY) <= set(cmds) and "pipeline" in cmds
    text = docgen.render()
    for name, cmd in cmds.items():
        assert f"## corpuskit {name}\n" in text
        assert (cmd.help or "").strip(), f"{name} has no help text"
        for p in cmd.params:
            if p.name == "help":
                continue
            assert (getattr(p, "help", None) or "").strip(), f"{name} {p.opts or p.name}: no help text"
            if p.param_type_name == "option":
                for flag in p.opts:
                    assert f"`{flag}`" in text
    for name in REGISTRY:
        for reason, why in get_stage_class(name).reasons.items():
            assert why.strip(), f"{name}: reason {reason} is not described"
            assert f"- `{reason}`: " in text
