"""Users' functions as processes: warm reuse, a timeout that kills a CPU-bound handler and is
followed by a cold start, a crash that fails only its invocation, and user errors (an
exception, a bad return, a syntax error, a missing module or handler) that come back as
errors with their logs. Behaviour as documented in
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html (INIT, reuse,
shutdown after a timeout), https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
and https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html.
"""

from __future__ import annotations

import shutil
import textwrap
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fanoutsim.aws.lambda_functions import FunctionCode, FunctionSpec
from fanoutsim.errors import ConfigError
from fanoutsim.runtime.process_functions import ProcessFunctions, ProcessResult

NODE = shutil.which("node")

PYTHON_HANDLER = """
import os, time
def main(event, context):
    print("got", event)
    if event.get("spin"):
        end = time.monotonic() + event["spin"]
        while time.monotonic() < end:
            pass
    if event.get("boom"):
        raise ValueError("boom")
    if event.get("crash"):
        os._exit(3)
    if event.get("bad_return"):
        return {1, 2}
    return {"pid": os.getpid(), "left": context.get_remaining_time_in_millis()}
"""

NODE_HANDLER = """
export const handler = async (event, context) => {
  console.log("got", JSON.stringify(event));
  if (event.spin) { const end = Date.now() + event.spin * 1000; while (Date.now() < end) {} }
  if (event.boom) throw new TypeError("bad thing");
  if (event.crash) process.exit(3);
  return { pid: process.pid, left: context.getRemainingTimeInMillis() };
};
"""


def _code(tmp: Path, language: str, source: str) -> FunctionCode:
    folder = tmp / language
    folder.mkdir()
    if language == "python":
        (folder / "app.py").write_text(textwrap.dedent(source))
        return FunctionCode("python3.12", folder, "app.main")
    (folder / "index.mjs").write_text(source)
    return FunctionCode("nodejs22.x", folder, "index.handler")


def _pool(code: FunctionCode, timeout_s: float = 1.0) -> ProcessFunctions:
    spec = FunctionSpec("fn", "unused:unused", timeout_s=timeout_s)
    return ProcessFunctions({"fn": code}, {"fn": spec}, dict, region="us-east-1", account="1")


def _run(pool: ProcessFunctions, **event: object) -> ProcessResult:
    return pool.invoke("fn", dict(event), str(uuid.uuid4()), "Root=1-test")


LANGUAGES = [
    "python",
    pytest.param("node", marks=pytest.mark.skipif(NODE is None, reason="no node")),
]


@pytest.fixture(params=LANGUAGES)
def pool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProcessFunctions]:
    source = PYTHON_HANDLER if request.param == "python" else NODE_HANDLER
    functions = _pool(_code(tmp_path, request.param, source))
    yield functions
    functions.close()


def test_an_environment_is_reused_while_warm(pool: ProcessFunctions) -> None:
    first, second = _run(pool), _run(pool)
    assert first.cold and not second.cold
    assert first.init_ms > 0 and second.init_ms == 0
    assert first.outcome is not None and second.outcome is not None
    assert first.outcome.result["pid"] == second.outcome.result["pid"]
    assert 0 < second.outcome.result["left"] <= 1000
    assert any("got" in line for line in second.logs)
    assert first.logs[0].startswith("INIT_START Runtime Version: ")


def test_a_timeout_kills_a_cpu_bound_handler_and_the_next_start_is_cold(
    pool: ProcessFunctions,
) -> None:
    warm = _run(pool)
    cut = _run(pool, spin=30)  # 30 s of work against a 1 s timeout
    assert cut.outcome is None  # timed out
    after = _run(pool)
    assert after.cold
    assert after.outcome is not None and warm.outcome is not None
    assert after.outcome.result["pid"] != warm.outcome.result["pid"]


def test_a_crash_is_an_error_of_that_invocation_only(pool: ProcessFunctions) -> None:
    crashed = _run(pool, crash=True)
    assert crashed.outcome is not None
    assert crashed.outcome.error == "Runtime.ExitError: Runtime exited with error: exit status 3"
    fine = _run(pool)
    assert fine.cold and fine.outcome is not None and fine.outcome.error is None


def test_an_exception_comes_back_with_its_type_and_the_environment_stays_warm(
    pool: ProcessFunctions,
) -> None:
    _run(pool)
    failed = _run(pool, boom=True)
    assert failed.outcome is not None
    assert failed.outcome.error in ("ValueError: boom", "TypeError: bad thing")
    assert failed.outcome.stack
    assert not _run(pool).cold


def test_a_python_return_that_is_not_json_is_an_error(tmp_path: Path) -> None:
    functions = _pool(_code(tmp_path, "python", PYTHON_HANDLER))
    try:
        result = _run(functions, bad_return=True)
    finally:
        functions.close()
    assert result.outcome is not None and result.outcome.error_type == "TypeError"
    assert "JSON serializable" in result.outcome.error_message


@pytest.mark.parametrize(
    ("language", "source", "kind"),
    [
        ("python", "def main(event, context)\n    return 1\n", "Runtime.UserCodeSyntaxError"),
        ("python", "import not_a_module_here\n", "Runtime.ImportModuleError"),
        ("python", "def other(event, context):\n    return 1\n", "Runtime.HandlerNotFound"),
        pytest.param(
            "node",
            "export const handler = async (e) => {",
            "Runtime.UserCodeSyntaxError",
            marks=pytest.mark.skipif(NODE is None, reason="no node"),
        ),
        pytest.param(
            "node",
            "export const other = 1;",
            "Runtime.HandlerNotFound",
            marks=pytest.mark.skipif(NODE is None, reason="no node"),
        ),
    ],
)
def test_code_that_cannot_start_fails_init_with_a_clear_type(
    tmp_path: Path, language: str, source: str, kind: str
) -> None:
    functions = _pool(_code(tmp_path, language, source))
    try:
        first, second = _run(functions), _run(functions)
    finally:
        functions.close()
    assert first.outcome is not None and first.outcome.error_type == kind
    assert first.cold and second.cold  # every invocation tries INIT again, as on AWS


def test_a_zip_is_read_into_a_folder_of_its_own_and_left_untouched(tmp_path: Path) -> None:
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("app.py", textwrap.dedent(PYTHON_HANDLER))
    before = archive.read_bytes()
    functions = _pool(FunctionCode("python3.11", archive, "app.main"))
    try:
        assert _run(functions).outcome.result["left"] > 0  # type: ignore[union-attr]
    finally:
        functions.close()
    assert archive.read_bytes() == before


@pytest.mark.parametrize(
    ("runtime", "path", "handler", "words"),
    [
        ("java21", ".", "a.b", "unknown runtime"),
        ("python3.12", "/no/such/folder", "a.b", "does not exist"),
        ("python3.12", ".", "nodot", "FILE.EXPORT"),
    ],
)
def test_bad_function_code_is_refused(runtime: str, path: str, handler: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        FunctionCode(runtime, path, handler)


def test_the_function_option_reads_name_runtime_path_handler(tmp_path: Path) -> None:
    name, code = FunctionCode.parse(f"stream_fanout=nodejs22.x:{tmp_path}:index.handler")
    assert name == "stream_fanout" and code.runtime == "nodejs22.x"
    assert Path(code.path) == tmp_path and code.handler == "index.handler"
    with pytest.raises(ConfigError, match="NAME=RUNTIME:PATH:HANDLER"):
        FunctionCode.parse("stream_fanout")
