"""The GitHub Action (action.yml at the repository root), run step by step on this machine.

A small interpreter for the composite action: each ``run:`` step is executed as GitHub runs a
``shell: bash`` step (``bash --noprofile --norc -eo pipefail FILE``) in a fake workspace, with the
step's ``env:`` evaluated from the test's inputs (the action's defaults otherwise),
``github.action_path`` (this checkout), ``runner.temp`` and the outputs earlier steps wrote to
their ``GITHUB_OUTPUT`` file; ``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``, ``GITHUB_ENV`` and
``RUNNER_TEMP`` are files and directories under ``tmp_path``. ``uses:`` steps (upload-artifact)
are recorded, not run. Only the expressions and ``if:`` conditions the action uses are understood;
anything else fails the test, so a change to the action cannot slip past the interpreter.

To keep it fast the action gets a ``python`` input: a venv made here whose site-packages point at
this interpreter's (a ``.pth`` file), so the install step builds and installs only the project.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import threading
import venv
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
REPORT_FILES = {"index.html", "results.json", "junit.xml", "summary.md"}
SECRET = "sk-conformance-action-SECRET-6c1f0e9d"
STEP_TIMEOUT = 600


def load_action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


# -- the interpreter ------------------------------------------------------------------------------


@dataclass
class StepResult:
    index: int
    id: str | None
    name: str
    returncode: int | None = None  # None: skipped, or a `uses:` step
    stdout: str = ""
    stderr: str = ""
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    steps: list[StepResult]
    outputs: dict[str, str]  # the action's declared outputs
    summary: str  # GITHUB_STEP_SUMMARY
    failed: bool  # some step failed: the action (and the job) fails
    workspace: Path

    @property
    def exit_code(self) -> int | None:
        """Return code of the last step that ran (the gate step ends with the run's code)."""
        ran = [s for s in self.steps if s.returncode is not None]
        return ran[-1].returncode if ran else None

    def uploads(self) -> list[StepResult]:
        return [s for s in self.steps if s.uses and s.uses.startswith("actions/upload-artifact@")]

    def logs(self) -> str:
        return "\n".join(s.stdout + "\n" + s.stderr for s in self.steps)


def parse_output_file(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV syntax: ``name=value`` lines and ``name<<DELIM`` blocks."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                block.append(lines[i])
                i += 1
            assert i < len(lines), f"{path.name}: {name} has no closing {delimiter}"
            i += 1
            values[name] = "\n".join(block)
        else:
            name, sep, value = line.partition("=")
            assert sep, f"{path.name}: malformed line {line!r}"
            values[name] = value
    return values


class Evaluator:
    """The few ``${{ }}`` expressions the action uses; anything else is an error."""

    def __init__(self, inputs: dict[str, str], runner_temp: Path) -> None:
        self.inputs = inputs
        self.runner_temp = runner_temp
        self.step_outputs: dict[str, dict[str, str]] = {}

    def value(self, expression: str) -> str:
        if m := re.fullmatch(r"inputs\.([A-Za-z0-9_-]+)", expression):
            if m[1] not in self.inputs:
                raise AssertionError(f"action.yml uses undeclared input {m[1]!r}")
            return self.inputs[m[1]]
        if expression == "github.action_path":
            return str(ROOT)
        if expression == "runner.temp":
            return str(self.runner_temp)
        if m := re.fullmatch(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", expression):
            return self.step_outputs.get(m[1], {}).get(m[2], "")
        raise AssertionError(f"expression not understood by this test: ${{{{ {expression} }}}}")

    def substitute(self, text: object) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), str(text))


def should_run(condition: object, failed: bool) -> bool:
    if condition is None:
        return not failed  # success()
    text = str(condition).strip()
    text = EXPRESSION.fullmatch(text)[1] if EXPRESSION.fullmatch(text) else text
    if text == "always()":
        return True
    if text == "success()":
        return not failed
    if text == "failure()":
        return failed
    raise AssertionError(f"if: condition not understood by this test: {condition!r}")


def clean_environment() -> dict[str, str]:
    """This process's environment without anything that would steer the run from outside."""
    prefixes = ("GITHUB_", "RUNNER_", "CONFORMANCE_", "HYPOTHESIS_", "PYTEST_", "INPUT_")
    skip = {"PWD", "OLDPWD"}
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k not in skip}


def run_action(inputs: dict[str, str], tmp_path: Path) -> ActionRun:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs not declared by action.yml: {unknown}"
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    values.update(inputs)

    workspace = tmp_path / "workspace"
    runner_temp = tmp_path / "runner-temp"
    github = tmp_path / "github"
    for d in (workspace, runner_temp, github):
        d.mkdir(exist_ok=True)
    summary = github / "step-summary.md"
    github_env = github / "env"
    summary.touch()
    github_env.touch()
    evaluator = Evaluator(values, runner_temp)

    steps: list[StepResult] = []
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        result = StepResult(index, step.get("id"), step.get("name", f"step {index}"))
        steps.append(result)
        if not should_run(step.get("if"), failed):
            continue
        if "uses" in step:
            result.uses = step["uses"]
            result.with_ = {k: evaluator.substitute(v) for k, v in (step.get("with") or {}).items()}
            continue
        assert step.get("shell") == "bash", f"step {result.name!r}: only shell: bash is supported"
        assert "working-directory" not in step
        output_file = github / f"output-{index}"
        output_file.touch()
        env = clean_environment()
        env.update(
            GITHUB_ACTIONS="true",
            GITHUB_ACTION_PATH=str(ROOT),
            GITHUB_WORKSPACE=str(workspace),
            GITHUB_OUTPUT=str(output_file),
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_ENV=str(github_env),
            RUNNER_TEMP=str(runner_temp),
        )
        env.update(parse_output_file(github_env))
        env.update({str(k): evaluator.substitute(v) for k, v in (step.get("env") or {}).items()})
        script = runner_temp / f"step-{index}.sh"
        # GitHub substitutes expressions in the script's text too (which is why the action never
        # puts one there: test_inputs_reach_scripts_only_through_env); so does this interpreter.
        script.write_text(evaluator.substitute(step["run"]), encoding="utf-8")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        script.unlink()
        result.returncode, result.stdout, result.stderr = proc.returncode, proc.stdout, proc.stderr
        if result.id:
            evaluator.step_outputs[result.id] = parse_output_file(output_file)
        if proc.returncode != 0:
            failed = True

    outputs = {name: evaluator.substitute(spec["value"]) for name, spec in (action.get("outputs") or {}).items()}
    return ActionRun(steps, outputs, summary.read_text(encoding="utf-8"), failed, workspace)


def describe(run: ActionRun) -> str:
    """What to print when an assertion about a run fails."""
    parts = []
    for s in run.steps:
        state = f"uses {s.uses} with {s.with_}" if s.uses else f"exit {s.returncode}"
        parts.append(f"--- {s.name}: {state}\n{s.stdout[-3000:]}\n{s.stderr[-3000:]}")
    return "\n".join(parts) + f"\n--- summary:\n{run.summary}"


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def action_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv that sees this interpreter's installed packages except the project itself, so the
    action's install step only builds and installs the project. (``--system-site-packages`` from
    a venv's interpreter would expose the base interpreter's packages, not the venv's: a ``.pth``
    file adds a directory of links to them instead, leaving out this checkout's own install and
    its entry points, which would otherwise load beside the copy the action installs.)"""
    where = tmp_path_factory.mktemp("action-venv")
    venv.create(where / "venv", with_pip=False, system_site_packages=True)
    python = where / "venv" / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    shadow = where / "parent-site-packages"
    shadow.mkdir()
    own = re.compile(r"(conformance|messages_conformance.*|__editable__.*|.*\.pth)", re.IGNORECASE)
    for parent in dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]):
        for entry in Path(parent).iterdir():
            if not own.fullmatch(entry.name) and not (shadow / entry.name).exists():
                (shadow / entry.name).symlink_to(entry)
    Path(purelib, "_conformance_test_parent.pth").write_text(f"{shadow}\n")
    return str(python)


@pytest.fixture
def faulted_stub():
    """A stub with a MUST-failing fault and the test key; yields its base URL."""
    command = [
        str(Path(sys.executable).parent / "conformance"),
        "stub",
        "--port",
        "0",
        "--fault",
        "chat-completion-body",
        "--api-key",
        SECRET,
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://"), f"stub did not print its URL: {url!r}"
        # keep reading, so a chatty stub never blocks on a full pipe
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the action's text ----------------------------------------------------------------------------


def test_inputs_reach_scripts_only_through_env():
    """No ``${{ }}`` in a script body (script injection), and the API key appears exactly once:
    as the value of an ``env:`` entry."""
    action = load_action()
    api_key_uses = []
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert not EXPRESSION.search(step["run"]), f"expression in the script of {step.get('name')!r}"
            assert "inputs." not in step["run"]
        for where, mapping in (("env", step.get("env")), ("with", step.get("with"))):
            for key, value in (mapping or {}).items():
                if "inputs.api-key" in str(value):
                    api_key_uses.append((where, key, value))
    assert api_key_uses == [("env", "CONFORMANCE_INPUT_API_KEY", "${{ inputs.api-key }}")]
    defaults = {k: v.get("default") for k, v in action["inputs"].items()}
    assert defaults["profile"] == "anthropic"
    assert defaults["anthropic-version"] == "2023-06-01"
    assert defaults["gate"] == "must"
    assert defaults["report-dir"] == "conformance-reports"
    assert defaults["target"] == ""
    assert set(action["outputs"]) >= {"exit-code", "report-dir"}


def test_docs_use_only_declared_inputs():
    """Every ``uses: OWNER/conformance@…`` step in docs/ci.md passes inputs action.yml declares."""
    declared = set(load_action()["inputs"])
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    seen = 0
    for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL):
        workflow = yaml.safe_load(block)
        if not isinstance(workflow, dict) or "jobs" not in workflow:
            continue
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("OWNER/conformance@"):
                    seen += 1
                    assert set(step.get("with") or {}) <= declared, step
    assert seen >= 2  # the single job and the matrix


# -- the action, run ------------------------------------------------------------------------------


@pytest.mark.slow
def test_bundled_stub_passes(tmp_path: Path, action_python: str):
    run = run_action({"python": action_python}, tmp_path)
    assert run.exit_code == 0 and not run.failed, describe(run)
    assert "GATE PASSED" in run.summary, describe(run)
    report_dir = run.workspace / "conformance-reports"
    assert run.outputs["exit-code"] == "0"
    assert Path(run.outputs["report-dir"]).resolve() == report_dir.resolve()
    assert REPORT_FILES <= {p.name for p in report_dir.iterdir()}
    assert (report_dir / "summary.md").read_text(encoding="utf-8") in run.summary
    # the install step names the distribution it installed
    assert "messages-conformance" in run.steps[0].stdout
    (upload,) = run.uploads()
    assert upload.with_["path"] == "conformance-reports"
    assert upload.with_["name"] == "conformance-reports"
    # Hypothesis' database went to RUNNER_TEMP, not into the caller's workspace
    assert not (run.workspace / ".hypothesis").exists()


@pytest.mark.slow
def test_failed_gate_keeps_summary_and_never_leaks_the_key(tmp_path: Path, action_python: str, faulted_stub: str):
    inputs = {
        "python": action_python,
        "target": faulted_stub,
        "api-key": SECRET,
        "report-dir": "reports/faulted stub",  # a space: every use must be quoted
        "artifact-name": "conformance-faulted",
        "extra-args": "--timeout 10 --run-budget 300",
    }
    run = run_action(inputs, tmp_path)
    report_dir = run.workspace / "reports" / "faulted stub"
    assert run.failed and run.exit_code == 1, describe(run)
    assert run.outputs["exit-code"] == "1"
    assert Path(run.outputs["report-dir"]).resolve() == report_dir.resolve()
    assert "GATE FAILED" in run.summary, describe(run)
    assert "GATE PASSED" not in run.summary
    assert REPORT_FILES <= {p.name for p in report_dir.iterdir()}
    # the upload still happened (if: always()), pointing at the report dir
    (upload,) = run.uploads()
    assert upload.with_ == {"name": "conformance-faulted", "path": "reports/faulted stub", "if-no-files-found": "warn"}
    assert Path(run.workspace, upload.with_["path"]) == report_dir

    # (c) the key is nowhere: not in the steps' output, nor any file the steps wrote
    assert SECRET not in run.logs()
    assert SECRET not in run.summary
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "results.json" for p in written)
    leaked = [p for p in written if SECRET.encode() in p.read_bytes()]
    assert not leaked, f"API key written to {leaked}"


def hostile(marker: Path, n: int, sep: str = "\n") -> str:
    """A value that runs ``touch marker/N.x`` if a shell ever evaluates it, whether it was spliced
    into a script unquoted, in double quotes or in single quotes (the last line closes and
    reopens either quote): valid shell in each case, so no syntax error masks an injection."""
    target = marker / str(n)
    return sep.join(
        [
            f"x; touch {target}.a",
            f"$(touch {target}.b)",
            f"`touch {target}.c`",
            f"x && touch {target}.d",
            f"x'; touch {target}.e; echo ' x\"; touch {target}.f; echo \"",
        ]
    )


@pytest.mark.slow
@pytest.mark.parametrize("case", ["options", "gate", "extra-args"])
def test_hostile_inputs_run_nothing(tmp_path: Path, action_python: str, case: str):
    marker = tmp_path / "pwned"
    marker.mkdir()
    if case == "options":  # every value reaches `conformance run` as one literal argument
        inputs = {
            "target": hostile(marker, 1),
            "model": hostile(marker, 2),
            "profile": hostile(marker, 3),
            "anthropic-version": hostile(marker, 4),
            "expect-failures": hostile(marker, 5),
            "report-dir": "r " + hostile(marker, 6, sep=" "),  # one line: a newline is refused
            "api-key": hostile(marker, 7),
            "artifact-name": hostile(marker, 8),
        }
    elif case == "gate":  # refused before anything runs
        inputs = {"gate": hostile(marker, 1), "report-dir": hostile(marker, 2)}
    else:  # split into words, never evaluated (quotes left out: shlex would refuse the open one)
        inputs = {"extra-args": f"--timeout 10 $(touch {marker}/1.b) `touch {marker}/1.c` ; touch {marker}/1.a"}
    run = run_action({"python": action_python, **inputs}, tmp_path)
    assert list(marker.iterdir()) == [], describe(run)
    assert run.failed and run.exit_code not in (None, 0), describe(run)
    assert run.steps[0].returncode == 0, describe(run)  # the install step is not affected
    assert run.outputs["exit-code"] == str(run.exit_code)
    assert "could not happen" in run.summary or "GATE FAILED" in run.summary, describe(run)
    if case == "gate":
        assert run.exit_code == 2
        assert "input gate must be" in run.summary or "input report-dir must be" in run.summary
    if case == "options":
        assert run.exit_code == 2
        assert "conformance: error:" in run.summary, describe(run)
