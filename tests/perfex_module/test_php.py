"""The Perfex module's PHP: `php -l` on every file, its unit script on the stand-ins."""

from __future__ import annotations

from tests.perfex_module.php import HERE, MODULE, php_files, run_php


def test_every_php_file_passes_php_lint():
    """php -l finds no syntax error in the module or its test scripts."""
    files = php_files()
    assert len(files) >= 6
    for path in files:
        done = run_php("-l", str(path))
        assert done.returncode == 0, f"{path}: {done.stdout}{done.stderr}"


def test_every_module_file_refuses_direct_access():
    """Each module file opens with Perfex's BASEPATH guard."""
    for path in MODULE.rglob("*.php"):
        head = path.read_text().split("\n", 4)
        assert any("defined('BASEPATH') or exit(" in line for line in head), path


def test_the_module_s_unit_script_passes():
    """test_module.php: activation, menu, token, hooks, payments, pages."""
    done = run_php(str(HERE / "test_module.php"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().startswith("OK"), done.stdout
