"""Docs that cannot drift: every command in the registry is in the README's table and in `help`;
every module is in the README's module map; the README's `sockrepl run` example is what it prints."""

import io
import re
from pathlib import Path

from sockrepl.batch import run_script
from sockrepl.commands import REGISTRY
from sockrepl.render import plain
from sockrepl.views import help_lines

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_command_table() -> set[str]:
    """The first word of each `code span` in the table under "## The command language"."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## The command language", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| group")]
    return {span.split()[0] for row in rows for span in re.findall(r"`([^`]+)`", row)}


def test_every_command_is_in_the_readme_table():
    missing = sorted(set(REGISTRY) - readme_command_table())
    assert missing == [], f"commands missing from README.md's command table: {missing}"


def test_every_command_is_named_by_help_and_shown_with_its_usage_by_help_of_its_group():
    overview = set(plain(help_lines(None, 80)).split())
    missing = sorted(set(REGISTRY) - overview)
    assert missing == [], f"commands missing from `help`: {missing}"
    for spec in REGISTRY.values():
        detailed = plain(help_lines(spec.group, 80)).splitlines()
        assert f"  {spec.usage}" in [line[: len(spec.usage) + 2] for line in detailed], (spec.name, spec.group)


def readme_module_map() -> set[str]:
    """Every `name.py` in the module map, the code block under "## Development" that starts with `sockrepl/`."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Development", 1)[1].split("```\nsockrepl/\n", 1)[1].split("```", 1)[0]
    return set(re.findall(r"\b(\w+)\.py\b", block))


def test_the_readme_module_map_names_every_module_and_no_other():
    modules = {path.stem for path in (README.parent / "sockrepl").glob("*.py")}
    named = readme_module_map()
    assert sorted(modules - named) == [], "modules missing from README.md's module map"
    assert sorted(named - modules) == [], "README.md's module map names modules that do not exist"


def test_the_readme_run_transcript_is_what_sockrepl_run_prints(capsys):
    """The `sockrepl run` example under "## Scripts", run as written: same lines, pids and paths aside."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Scripts: `sockrepl run`", 1)[1].split("```\n$ ", 1)[1].split("```", 1)[0]
    command, *shown = block.splitlines()
    script = re.fullmatch(r"printf '([^']*)' \| sockrepl run -", command)
    assert script, command
    out = io.StringIO()
    status = run_script(io.BytesIO(script.group(1).replace("\\n", "\n").encode()), out)
    printed = capsys.readouterr().err.splitlines() + out.getvalue().splitlines()

    def normal(lines: list[str]) -> list[str]:
        return [re.sub(r"sockrepl-\w+", "sockrepl-X", re.sub(r"pid \d+", "pid N", line)) for line in lines]

    assert (status, normal(printed)) == (0, normal(shown))
