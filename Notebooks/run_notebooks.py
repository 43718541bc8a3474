"""Executes the notebooks headless (nbclient, kernel python3) and reports which ones fail.

    python Notebooks/run_notebooks.py [NOTEBOOK.ipynb ...] [--timeout SECONDS] [--output-dir DIR]

Without notebook arguments: every *.ipynb next to this script. The environment is passed to the kernel, so
GRPO_RUNS, GRPO_STEP and the notebooks' other variables choose what they read; relative paths in GRPO_RUNS and
GRPO_RUN are made absolute here, against the working directory, because the kernel runs in the notebook's folder.
Notebooks run in memory; the files are never modified. With --output-dir, each executed notebook is written
there, together with its figures as PNG files (NAME-CELL-N.png).

Prints one line per notebook (PASS or FAIL, cells, seconds); for a failing notebook, the failing cell's source
and error. Exit status 1 when any notebook fails.
"""
import argparse
import base64
import os
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def absolute_runs(value: str) -> str:
    parts = [p for p in value.replace(",", ":").split(":") if p.strip()]
    return ":".join(str(Path(p.strip()).expanduser().resolve()) if Path(p.strip()).expanduser().exists() else p
                    for p in parts)


def prepare_environment():
    for name in ("GRPO_RUNS", "GRPO_RUN"):
        if os.environ.get(name):
            os.environ[name] = absolute_runs(os.environ[name])
    # Headless: the inline backend renders with Agg and needs no display; a desktop backend from the user's
    # environment would fail without one.
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # Prefer this Python environment's kernel spec over a user-wide 'python3' that may point elsewhere.
    os.environ.setdefault("JUPYTER_PREFER_ENV_PATH", "1")
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def save_outputs(nb, path: Path, output_dir: Path):
    import nbformat

    output_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output_dir / path.name)
    for index, cell in enumerate(nb.cells):
        figures = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        for n, data in enumerate(figures):
            (output_dir / f"{path.stem}-cell{index:02d}-{n}.png").write_bytes(base64.b64decode(data))


def run(path: Path, timeout: int, output_dir: Path | None) -> bool:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    # The kernel runs in the notebook's folder (runfiles.py is there); its TCP-without-encryption warning is
    # about remote kernels, not this local one: log errors only.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    start = time.monotonic()
    failure = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        failure = error
    seconds = time.monotonic() - start
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    if output_dir is not None:
        save_outputs(nb, path, output_dir)
    if failure is None:
        print(f"PASS {path.name}: {code_cells} code cells in {seconds:.1f} s", flush=True)
        return True
    failed = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                   and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    print(f"FAIL {path.name}: {'cell %d' % failed if failed is not None else 'execution'} failed after "
          f"{seconds:.1f} s ({type(failure).__name__})", flush=True)
    if failed is None:  # a timeout or a dead kernel: no error output in the notebook
        lines = str(failure).strip().splitlines()
    else:
        error = next(o for o in nb.cells[failed].outputs if o.get("output_type") == "error")
        source = nb.cells[failed].source.splitlines()
        lines = ["cell source:"] + ["    " + line for line in source[:6]] + (["    …"] if len(source) > 6 else [])
        lines += ["traceback (last lines):"] + ANSI.sub("", "\n".join(error.get("traceback", []))).splitlines()[-20:]
    print("\n".join("  " + line for line in lines[-40:]), flush=True)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all in Notebooks/)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell (default 300)")
    parser.add_argument("--output-dir", type=Path, help="write executed notebooks and their figures here")
    args = parser.parse_args()
    notebooks = [p.resolve() for p in args.notebooks] or sorted(HERE.glob("*.ipynb"))
    if not notebooks:
        sys.exit("no notebooks to run")
    prepare_environment()
    print(f"Executing {len(notebooks)} notebook(s) with GRPO_RUNS={os.environ.get('GRPO_RUNS', '(default runs/*/run.h5)')}",
          flush=True)
    results = [run(path, args.timeout, args.output_dir) for path in notebooks]
    failed = results.count(False)
    print(f"Notebooks: {len(results) - failed} of {len(results)} executed without error", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
