"""The job runner inside a transformers ``Trainer``: stop within a step, honest progress, live curves.

:class:`JobCallback` is a ``TrainerCallback`` (imported lazily: no transformers at import time) that
sets ``control.should_training_stop`` when the current :class:`core.jobs.Job` is stopped, reports
``step / max_steps`` through :func:`core.jobs.report`, and records every logged value (loss,
DPO's ``rewards/margins`` …) in a :class:`Curve`. :func:`stream_training` runs a blocking training
function in a thread and yields the curve while it grows, so a job's generator can stream plots.
"""
from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from core import jobs


@dataclass
class Curve:
    """Logged training values by step (thread-safe appends; read with :meth:`series`)."""

    max_steps: int = 0
    points: list[tuple[int, str, float]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    step: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, step: int, values: dict[str, Any]) -> None:
        with self._lock:
            for key, value in values.items():
                if isinstance(value, (int, float)) and key not in ("epoch", "step", "learning_rate", "grad_norm"):
                    self.points.append((int(step), key, float(value)))

    def series(self, key: str) -> tuple[list[int], list[float]]:
        with self._lock:
            pts = [(s, v) for s, k, v in self.points if k == key]
        return [s for s, _ in pts], [v for _, v in pts]

    def last(self, key: str) -> float | None:
        _, values = self.series(key)
        return values[-1] if values else None

    def keys(self) -> list[str]:
        with self._lock:
            return sorted({k for _, k, _ in self.points})

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def job_callback(curve: Curve, stop: threading.Event | None = None, what: str = "training") -> Any:
    """A ``TrainerCallback`` bound to the current job (or ``stop``) that fills ``curve``."""
    from transformers import TrainerCallback

    job = jobs.current_job()
    event = stop if stop is not None else (job.stop_event if job is not None else threading.Event())

    class JobCallback(TrainerCallback):
        def _check(self, control: Any) -> Any:
            if event.is_set():
                control.should_training_stop = True
                control.should_epoch_stop = True
            return control

        hooks: list[Any] = []

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
            curve.max_steps = state.max_steps or args.max_steps
            if kw.get("model") is not None:
                self.hooks = stop_hooks(kw["model"], event)
            return self._check(control)

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
            for hook in self.hooks:
                hook.remove()
            self.hooks = []
            return control

        def on_substep_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
            return self._check(control)  # between gradient-accumulation micro-batches

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
            curve.step = state.global_step
            total = state.max_steps or 1
            if job is not None:
                with jobs.running(job):
                    jobs.report(state.global_step / total, f"{what}: step {state.global_step} / {total}")
            return self._check(control)

        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any) -> Any:
            if logs:
                curve.add(state.global_step, logs)
            return self._check(control)

    return JobCallback()


def stop_hooks(model: Any, event: threading.Event) -> list[Any]:
    """Forward pre-hooks on every transformer block that raise :class:`core.jobs.Stopped` once
    ``event`` is set, so a Stop lands within one block's forward pass, not at the end of a long step."""
    import torch

    def hook(module: Any, inputs: Any) -> None:
        if event.is_set():
            raise jobs.Stopped("Stopped.")

    handles = []
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList):
            handles += [block.register_forward_pre_hook(hook) for block in module]
    return handles


def stream_training(train: Callable[[], Any], curve: Curve, every_s: float = 1.0) -> Iterator[Curve | Any]:
    """Run ``train()`` in a thread (same job context); yield ``curve`` about every ``every_s``
    seconds while it runs, then yield ``train()``'s result. A stopped job raises
    :class:`core.jobs.Stopped` once training has really stopped (so its slot frees only then)."""
    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def run() -> None:
        try:
            box["result"] = ctx.run(train)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the job's thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name="training")
    thread.start()
    event = jobs.stop_event()
    try:
        while thread.is_alive():
            thread.join(every_s)
            yield curve
    finally:
        if thread.is_alive():  # the generator was closed early: stop the trainer, wait for it
            event.set()
            thread.join(60)
    if "error" in box:
        raise box["error"]
    if event.is_set():
        jobs.check_stop()
        raise jobs.Stopped("Stopped.")
    yield box.get("result")


def quiet(trainer: Any) -> Any:
    """Drop the console printer a ``disable_tqdm`` Trainer adds (the curve is the log here)."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer


def training_args_common(max_steps: int, batch: int, lr: float, out_dir: str, seed: int = 42) -> dict[str, Any]:
    """TrainingArguments values every CPU run here shares: no checkpoints, log every step, fp32, no
    gradient checkpointing (it only slows a CPU), no reporting integrations, no dataloader workers."""
    from core.gpu import device

    return dict(output_dir=out_dir, max_steps=int(max_steps), per_device_train_batch_size=int(batch),
                learning_rate=float(lr), logging_steps=1, save_strategy="no", report_to=[],
                disable_tqdm=True, seed=seed, data_seed=seed, use_cpu=device() != "cuda", bf16=False, fp16=False,
                gradient_checkpointing=False, dataloader_num_workers=0, lr_scheduler_type="linear",
                warmup_steps=0)
