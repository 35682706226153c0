"""The documentation stays true: one configuration table, a short README, links that resolve.

docs/configuration.md holds the one table of every setting. Its rows are checked against what the
code really reads: each service's config module is executed afresh in an empty environment under a
profiler that records every environment read it makes (through servicekit's env_* helpers or
os.environ), with the default in force and the config class that made it. That catches computed
defaults (`15 * 60`, a development secret, "console unless SMTP_HOST is set") that reading the source
would not. Every other environment read in the services' code (gunicorn settings, the dev server,
logging), in docker-compose.yml and in .env.example must have a row too.
"""
import ast
import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DOC = ROOT / "docs" / "configuration.md"
SERVICES = ("user_management", "notifications")
SERVICE_CODE = ("user_management", "notifications", "servicekit", "wsgi.py")
# Read from the environment, but set by a tool rather than by whoever deploys.
NOT_SETTINGS = {"FLASK_RUN_FROM_CLI": "set by the `flask` command; the e-mail sender does not start under it"}
REQUIRED = object()  # os.environ[...] has no default
ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


# --- what the code reads ------------------------------------------------------------------------------


# The code of os.environ's own readers (the stdlib may be frozen, so match code objects, not files).
_ENVIRON_METHODS = {type(os.environ).__getitem__.__code__, type(os.environ).get.__code__,
                    type(os.environ).__contains__.__code__}
_GETENV = os.getenv.__code__


def _is_env_helper(code):
    """True for a function that reads one environment variable: the project's env_* helpers or os's own."""
    if code in _ENVIRON_METHODS or code is _GETENV:
        return True
    return bool(re.fullmatch(r"_?env_\w+", code.co_name)) and code.co_filename.startswith(str(ROOT))


def _read_of(frame):
    """Return (variable, default) of an env helper's frame, or None when it does not read os.environ."""
    code = frame.f_code
    args = [frame.f_locals.get(var) for var in code.co_varnames[: code.co_argcount]]
    if code in _ENVIRON_METHODS:
        if not args or args[0] is not os.environ:
            return None  # the same method of some other mapping
        args = args[1:]
    if not args or not isinstance(args[0], str):
        return None
    if code.co_name == "__getitem__":
        return args[0], REQUIRED
    return args[0], args[1] if len(args) > 1 else None


def config_reads(service):
    """Return ([(variable, default, reader, line)], probe module) for `service`'s config module.

    Each environment read the module makes when executed in an empty environment (with the
    `servicekit.config` it builds on, `SharedConfig` and `config_for` included), with the default in
    force, the class body or function that made it ("Config", "SharedConfig", "config_for") and its
    line. `probe` is that fresh copy of the module (the real ones are left alone).
    """
    real = importlib.import_module(f"{service}.config")  # its imports are loaded with the real environment
    shared = importlib.import_module("servicekit.config")
    paths = {real.__file__, shared.__file__}
    reads = []

    def profiler(frame, event, _arg):
        if event != "call" or not _is_env_helper(frame.f_code):
            return
        caller = frame.f_back
        while caller is not None:
            if _is_env_helper(caller.f_code):
                return  # nested inside another helper (env_int -> env_str): the outer call is recorded
            if caller.f_code.co_filename in paths:
                break
            caller = caller.f_back
        read = _read_of(frame)
        if caller is not None and read is not None:
            reads.append((*read, caller.f_code.co_name, caller.f_lineno))

    def fresh(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        return spec, importlib.util.module_from_spec(spec)

    shared_spec, shared_probe = fresh("servicekit._config_probe", shared.__file__)
    spec, probe = fresh(f"{service}._config_probe", real.__file__)
    previous = sys.getprofile()
    with mock.patch.dict(os.environ, clear=True), mock.patch.dict(sys.modules, {"servicekit.config": shared_probe}):
        sys.setprofile(profiler)
        try:
            shared_spec.loader.exec_module(shared_probe)
            spec.loader.exec_module(probe)
            probe.config_for()
        finally:
            sys.setprofile(previous)
    return reads, probe


def _only_a_condition(source, variable, line):
    """True when every read of `variable` on `line` is the test of an `a if test else b`.

    `MAIL_BACKEND = env_str("MAIL_BACKEND", "smtp" if env_str("SMTP_HOST") else "console")` reads
    SMTP_HOST without setting anything from it, so that read says nothing of SMTP_HOST's default.
    """
    tree = ast.parse(source)
    tests = [node.test for node in ast.walk(tree) if isinstance(node, ast.IfExp)]
    in_a_test = {id(inner) for test in tests for inner in ast.walk(test)}
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and node.args
             and isinstance(node.args[0], ast.Constant) and node.args[0].value == variable
             and node.lineno <= line <= node.end_lineno]
    return bool(calls) and all(id(call) in in_a_test for call in calls)


def defaults_by_environment(service):
    """Return ({variable: development default}, {variable: production default}) of one service.

    A variable's default in an environment is the one read by the most derived class of that
    environment's config class that reads it (then the module's functions); a variable that only
    another environment reads (a testing-only setting) has that environment's default.
    """
    reads, probe = config_reads(service)
    source = Path(probe.__file__).read_text()
    reads = [read for read in reads if not _only_a_condition(source, read[0], read[3])]

    def resolve(config_class):
        order = [cls.__name__ for cls in config_class.__mro__] + ["config_for", "<module>"]
        rank = {name: index for index, name in enumerate(order)}
        chosen = {}
        for variable, default, reader, _line in sorted(reads, key=lambda read: rank.get(read[2], len(order))):
            chosen.setdefault(variable, default)
        return chosen

    return resolve(probe.config_for("development")), resolve(probe.config_for("production"))


def env_names_in_code():
    """Return {variable: {file}} for every environment variable the services' code names."""
    found = {}
    for root in SERVICE_CODE:
        base = ROOT / root
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                name = None
                if isinstance(node, ast.Call) and node.args:
                    func = ast.unparse(node.func)
                    first = node.args[0]
                    if (func in ("os.environ.get", "os.getenv", "environ.get") or re.fullmatch(r"_?env_\w+", func)) \
                            and isinstance(first, ast.Constant):
                        name = first.value
                elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                    name = getattr(node.slice, "value", None)
                if isinstance(name, str) and ENV_NAME.fullmatch(name):
                    found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def compose_defaults():
    """Return {variable: default or None} for every ${VAR...} in docker-compose.yml (comments included)."""
    found = {}
    for match in re.finditer(r"\$\{([A-Z][A-Z0-9_]*)(?::?-([^}]*))?", (ROOT / "docker-compose.yml").read_text()):
        found.setdefault(match.group(1), match.group(2))
    return found


def env_example():
    """Return {variable: value} of every `NAME=value` line of .env.example, commented out or not."""
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"#?\s*([A-Z][A-Z0-9_]*)=(\"[^\"]*\"|\S*)", line)
        if match:
            found[match.group(1)] = match.group(2).strip('"')
    return found


# --- what the table says ------------------------------------------------------------------------------


def table_rows():
    """Return the rows of the configuration table as dicts keyed by lower-cased header."""
    lines = [line for line in CONFIG_DOC.read_text().splitlines() if line.startswith("|")]
    header = [cell.strip().lower() for cell in lines[0].strip("|").split("|")]
    assert header[:4] == ["variable", "read by", "default", "production"], header
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == len(header), f"docs/configuration.md: a row with {len(cells)} cells: {line}"
        row = dict(zip(header, cells))
        row["name"] = row["variable"].strip("`")
        rows.append(row)
    return rows


def cell_value(cell):
    """Return the first `literal` of a table cell, or None for a cell meaning "no default"."""
    match = re.search(r"`([^`]*)`", cell)
    return match.group(1) if match else None


def shown(value):
    """Return a default as the table writes it."""
    if value is None or value is REQUIRED:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def same(code_value, table_value):
    """True when the table's literal is the code's default (numbers compare as numbers)."""
    expected = shown(code_value)
    if expected is None or table_value is None:
        return expected == table_value
    try:
        return float(expected) == float(table_value)
    except ValueError:
        return expected == table_value


def rows_for(rows, service, name):
    """Return the rows documenting `name` for `service` (a "both" row counts)."""
    return [row for row in rows if row["name"] == name and (service in row["read by"] or "both" in row["read by"])]


# --- the tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_and_its_default_is_in_the_configuration_table(service):
    rows = table_rows()
    development, production = defaults_by_environment(service)
    problems = []
    for name in sorted(development.keys() | production.keys()):
        default = development.get(name)
        matches = rows_for(rows, service, name)
        if len(matches) != 1:
            problems.append(f"{name} ({service}, default {shown(default)!r}): expected one row in the table whose "
                            f"'Read by' says {service} or both, found {len(matches)}")
            continue
        row = matches[0]
        if not same(default, cell_value(row["default"])):
            problems.append(f"{name} ({service}): the code's default is {shown(default)!r}, "
                            f"the table's Default column says {row['default']!r}")
        if name in production and shown(production[name]) != shown(default):
            prod, cell = production[name], row["production"]
            if prod is None and "required" not in cell.lower():
                problems.append(f"{name} ({service}): production has no default (it must be set), "
                                f"but the table's Production column says {cell!r}; write 'required'")
            elif prod is not None and f"`{shown(prod)}`" not in cell:
                problems.append(f"{name} ({service}): the production default is {shown(prod)!r}, "
                                f"the table's Production column says {cell!r}")
    assert not problems, "docs/configuration.md is out of date:\n" + "\n".join(problems)


def test_every_variable_the_code_compose_or_env_example_names_is_in_the_table():
    documented = {row["name"] for row in table_rows()}
    sources = {name: sorted(files) for name, files in env_names_in_code().items() if name not in NOT_SETTINGS}
    sources.update({name: ["docker-compose.yml"] for name in compose_defaults() if name not in sources})
    sources.update({name: [".env.example"] for name in env_example() if name not in sources})
    missing = [f"{name} (read in {', '.join(files)})"
               for name, files in sorted(sources.items()) if name not in documented]
    assert not missing, "variables missing from the table in docs/configuration.md:\n" + "\n".join(missing)


def test_compose_and_env_example_values_are_the_ones_the_table_documents():
    rows = table_rows()

    def documented_values(name):
        values = set()
        for row in rows:
            if row["name"] == name:
                values.update(re.findall(r"`([^`]*)`", row["default"] + " " + row["production"]))
        return values

    problems = []
    for source, values in (("docker-compose.yml", compose_defaults()), (".env.example", env_example())):
        for name, value in sorted(values.items()):
            if value and "$" not in value and value not in documented_values(name):
                problems.append(f"{source} gives {name}={value!r}; the table's Default/Production columns "
                                f"for {name} show {sorted(documented_values(name))}")
    assert not problems, "\n".join(problems)


def test_the_probe_sees_computed_and_conditional_defaults():
    """Guard the probe itself: it must see through env_int, class overrides and expressions."""
    development, production = defaults_by_environment("user_management")
    assert development["JWT_ACCESS_EXPIRES"] == 15 * 60
    assert development["JWT_ACCESS_SECRET"].startswith("dev-")
    assert production["JWT_ACCESS_SECRET"] is None
    assert development["MONGODB_URI"].startswith("mongomock://") and production["MONGODB_URI"] is None
    assert (development["PROXY_COUNT"], production["PROXY_COUNT"]) == (0, 0)
    assert development["APP_ENV"] == "development"
    notifications_dev, notifications_prod = defaults_by_environment("notifications")
    assert (notifications_dev["MAIL_BACKEND"], notifications_prod["MAIL_BACKEND"]) == ("console", "smtp")
    assert notifications_dev["SMTP_HOST"] == "127.0.0.1"


def test_readme_is_under_200_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines; move the depth to docs/"


def markdown_files():
    """Return README.md and every docs/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def anchors(path):
    """Return the anchors GitHub gives the headings of a Markdown file."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    headings = re.findall(r"^#+\s+(.+?)\s*$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_in_the_repository(path):
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)  # links in code blocks are examples
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # an absolute URL
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists() or ROOT not in resolved.parents:
            broken.append(f"{target} (no such file in the repository)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target} (no heading with that anchor)")
    assert not broken, f"{path.relative_to(ROOT)} has broken links: {broken}"


def test_every_test_named_in_the_security_table_exists():
    text = (ROOT / "docs" / "security.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)
    assert len(named) >= 20, "docs/security.md should name each protection's test as `tests/…py::test_name`"
    functions = {}
    for file in {file for file, _test in named}:
        path = ROOT / file
        tree = ast.parse(path.read_text()) if path.exists() else ast.Module(body=[], type_ignores=[])
        functions[file] = {node.name for node in ast.walk(tree)
                           if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    missing = [f"{file}::{test}" for file, test in named if test not in functions[file]]
    assert not missing, "docs/security.md names tests that do not exist:\n" + "\n".join(missing)
