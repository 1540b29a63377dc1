"""sockrepl as installed, not run from the source tree (the editable install hid a broken install).

A real wheel is built and installed into a fresh venv by .ci/run; here the
installed layout is made from pyproject.toml's package mapping, cheaply, and
sockrepl is run from it in a directory that holds no source, with `-I -S`: no
site-packages, so the editable install's finder cannot supply what is missing.
"""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import markdown_it
import prompt_toolkit
import rich
import wcwidth

ROOT = Path(__file__).resolve().parent.parent
# Where the runtime dependencies are installed: with -S the site-packages are not on the path
# (nor the editable install's finder, which could stand in for missing files), so add them back.
DEPENDENCIES = sorted({str(Path(module.__file__).resolve().parent.parent)
                       for module in (markdown_it, prompt_toolkit, rich, wcwidth)})
DEPENDENCIES_ON_PATH = "sys.path += sys.argv.pop(2).split(':'); "


def installed_layout(site: Path) -> None:
    """Copy each package's modules and package data where pyproject.toml says an install puts them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package in config["packages"]:
        source = ROOT / config.get("package-dir", {}).get(package, package.replace(".", "/"))
        target = site / package.replace(".", "/")
        target.mkdir(parents=True)
        patterns = ["*.py", *config.get("package-data", {}).get(package, [])]
        for pattern in patterns:
            for file in source.glob(pattern):
                shutil.copy(file, target / file.name)


def test_an_install_finds_its_lessons_under_a_name_no_module_has(tmp_path):
    site = tmp_path / "site"
    installed_layout(site)
    assert (site / "sockrepl" / "lessons.py").is_file()
    elsewhere = tmp_path / "elsewhere"  # nothing to import from the current directory
    elsewhere.mkdir()
    program = ("import sys; sys.path.insert(0, sys.argv[1]); " + DEPENDENCIES_ON_PATH +
               "import sockrepl.lessons as m; "
               "assert m.__file__.startswith(sys.argv[1]), m.__file__; "
               "from sockrepl.cli import main; sys.exit(main(sys.argv[2:]))")

    def installed(*args):
        return subprocess.run([sys.executable, "-I", "-S", "-c", program, str(site), ":".join(DEPENDENCIES), *args],
                              cwd=elsewhere, capture_output=True, text=True, timeout=60)

    listing = installed("lesson")
    assert listing.returncode == 0, listing.stderr
    assert "  phone " in listing.stdout and "  netstat " in listing.stdout
    checked = installed("lesson", "--check", "phone")
    assert checked.returncode == 0 and checked.stdout.startswith("PASS phone "), checked.stdout + checked.stderr


def test_missing_lesson_files_are_a_clear_error_and_completion_still_works(tmp_path):
    site = tmp_path / "site"
    installed_layout(site)
    shutil.rmtree(site / "sockrepl" / "lesson_files")
    program = ("import sys; sys.path.insert(0, sys.argv[1]); " + DEPENDENCIES_ON_PATH +
               "from sockrepl.lesson_driver import LessonDriver; assert LessonDriver().names() == (); "
               "from sockrepl.cli import main; sys.exit(main(sys.argv[2:]))")
    run = subprocess.run([sys.executable, "-I", "-S", "-c", program, str(site), ":".join(DEPENDENCIES), "lesson"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == ("sockrepl: the lessons that come with sockrepl are missing "
                          "(a broken install? reinstall sockrepl)\n")
