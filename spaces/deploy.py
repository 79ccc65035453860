"""Deploy one LLM Lab app to its own Hugging Face Space on ZeroGPU.

    python spaces/deploy.py tokenizers --repo-id USER/llm-lab-tokenizers --dry-run
    HF_TOKEN=hf_... python spaces/deploy.py tokenizers --repo-id USER/llm-lab-tokenizers

Builds the Space folder (``spaces/build.py``; or takes a built one with ``--folder``), creates the
Space with ZeroGPU hardware (``space_hardware="zero-a10g"``: hardware cannot be chosen from the
README front matter, and a free account is refused a Gradio Space on ``cpu-basic``), and uploads
the folder, removing remote files that are no longer part of it. ``--dry-run`` prints the files
that would be uploaded, one per line, and touches no network. The token comes from ``HF_TOKEN``
(or ``--token-env NAME``), falling back to a saved ``hf auth login``.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import tempfile
from pathlib import Path


# spaces/ is not a package (``import spaces`` stays ZeroGPU's): load build.py by path, once, under the
# name its own ``load_tool`` gives the tools; build.load_tool loads any other tool
_BUILD = "llm_lab_spaces_build"
if _BUILD not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_BUILD, Path(__file__).resolve().parent / "build.py")
    sys.modules[_BUILD] = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
    _spec.loader.exec_module(sys.modules[_BUILD])  # type: ignore[union-attr]
_build = sys.modules[_BUILD]
load_tool = _build.load_tool
GENERATED_MARK, BuildError, build_space, space_files = (_build.GENERATED_MARK, _build.BuildError,
                                                        _build.build_space, _build.space_files)

HARDWARE = "zero-a10g"  # the ZeroGPU flavour (the name predates its move to newer GPUs)
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
IGNORE = ["__pycache__/*", "**/__pycache__/*", "*.pyc", ".gradio/*", "**/.gradio/*", ".git/*"]


def _token(env_name: str) -> str | None:
    token = os.environ.get(env_name, "").strip()
    if token:
        return token
    from huggingface_hub import get_token

    return get_token()


def _explain(exc: Exception) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status == 401:
        return "the token was refused (401): use a write token of the Space's owner"
    if status == 402:
        return ("payment required (402): a free account may host at most 2 ZeroGPU Spaces (verified email, "
                "account older than 30 days); seven Spaces need a PRO account or an organisation")
    if status == 403:
        return "forbidden (403): the token cannot write to that user or organisation"
    return f"{type(exc).__name__}: {exc}"


def deploy(folder: Path, repo_id: str, *, token: str, private: bool = False, slug: str = "",
           secrets: dict[str, str] | None = None) -> str:
    """Create (or reuse) the ZeroGPU Space ``repo_id`` and upload ``folder``; returns its URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", space_hardware=HARDWARE,
                    exist_ok=True, private=private)
    try:  # creation may ignore the hardware (huggingface_hub#1477): make sure it is ZeroGPU
        runtime = api.get_space_runtime(repo_id)
        current = {str(getattr(h, "value", h) or "") for h in (runtime.hardware, runtime.requested_hardware)}
        if HARDWARE not in current:
            api.request_space_hardware(repo_id, HARDWARE)
    except Exception as exc:  # noqa: BLE001 - the upload can still go ahead
        print(f"warning: could not check the Space hardware ({_explain(exc)}); "
              f"select ZeroGPU in the Space settings", file=sys.stderr)
    for key, value in (secrets or {}).items():
        api.add_space_secret(repo_id, key, value)
    files = space_files(folder)
    api.upload_folder(repo_id=repo_id, repo_type="space", folder_path=str(folder),
                      commit_message=f"Deploy LLM Lab {slug or 'app'}", allow_patterns=files,
                      ignore_patterns=IGNORE, delete_patterns="*")
    return f"https://huggingface.co/spaces/{repo_id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python spaces/deploy.py", description=__doc__.splitlines()[0])
    parser.add_argument("slug", help="app slug (tokenizers, classifiers, topics, prompts, rag, vision, arena)")
    parser.add_argument("--repo-id", required=True, help="the Space, as USER/NAME or ORG/NAME")
    parser.add_argument("--dry-run", action="store_true", help="list the files that would be uploaded; no network")
    parser.add_argument("--folder", help="upload this already built Space folder instead of building one")
    parser.add_argument("--private", action="store_true", help="create the Space private")
    parser.add_argument("--token-env", default="HF_TOKEN", help="environment variable holding the token")
    parser.add_argument("--secret", action="append", default=[], metavar="NAME",
                        help="copy environment variable NAME into a Space secret (e.g. OPENAI_API_KEY)")
    args = parser.parse_args(argv)
    if not REPO_ID.match(args.repo_id):
        parser.error(f"--repo-id must look like USER/NAME, got {args.repo_id!r}")

    with tempfile.TemporaryDirectory(prefix=f"space-{args.slug}-") as tmp:
        if args.folder:
            folder = Path(args.folder)
            app = folder / "app.py"
            if not (app.is_file() and GENERATED_MARK in app.read_text(encoding="utf-8", errors="replace")):
                print(f"error: {folder} is not a Space built by `python spaces/build.py`", file=sys.stderr)
                return 2
        else:
            folder = Path(tmp) / args.slug
            try:
                build_space(args.slug, folder)
            except BuildError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        files = space_files(folder)
        if args.dry_run:
            print(f"dry run: would create Space {args.repo_id} (sdk gradio, hardware {HARDWARE}) and upload "
                  f"{len(files)} files:", file=sys.stderr)
            for rel in files:
                print(rel)
            missing = [name for name in args.secret if not os.environ.get(name)]
            if args.secret:
                print(f"would set secrets: {', '.join(args.secret)}"
                      + (f" (not set here: {', '.join(missing)})" if missing else ""), file=sys.stderr)
            return 0
        token = _token(args.token_env)
        if not token:
            print(f"error: no Hugging Face token: set {args.token_env} (a write token) or run `hf auth login`",
                  file=sys.stderr)
            return 2
        secrets = {}
        for name in args.secret:
            if not os.environ.get(name):
                print(f"error: --secret {name}: the environment variable is not set", file=sys.stderr)
                return 2
            secrets[name] = os.environ[name]
        try:
            url = deploy(folder, args.repo_id, token=token, private=args.private, slug=args.slug,
                         secrets=secrets)
        except Exception as exc:  # noqa: BLE001 - one line for the instructor, not a traceback
            print(f"error: deploying {args.slug} to {args.repo_id} failed: {_explain(exc)}", file=sys.stderr)
            return 1
        print(f"deployed {args.slug} ({len(files)} files) → {url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
