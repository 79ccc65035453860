"""Fine-tune a generation model (book ch. 12): SFT with ``trl.SFTTrainer`` and DPO with
``trl.DPOTrainer``, both as ``peft`` LoRA adapters on SmolLM2-135M-Instruct (offline: the packaged
model; Hub: the same model id — the book's TinyLlama recipe scaled down to CPU minutes).

The chain follows the book: base → SFT adapter → merge → DPO adapter (its reference is the model
it starts from) → merge. Each step's adapter folder is kept for download; the merged model serves
the comparison and the arena contestant (:mod:`core.training.tuned`).
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from core import jobs
from core.errors import LabError
from core.settings import get_settings
from core.training.callbacks import Curve, job_callback, quiet, training_args_common
from core.training.data import cap_steps

HUB_BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
TARGETS = ("q_proj", "v_proj")
DPO_DEFAULTS = {"rank": 16, "alpha": 32, "beta": 0.1, "steps": 20, "lr": 2e-4, "batch": 4, "max_length": 256}
SFT_DEFAULTS = {"rank": 16, "alpha": 32, "steps": 20, "lr": 2e-4, "batch": 4, "max_length": 256}


@dataclass
class TuneRun:
    kind: str  # "sft" | "dpo"
    adapter_dir: Path
    model: Any = field(repr=False)  # merged, ready to generate
    tokenizer: Any = field(repr=False)
    trainable: int = 0
    total: int = 0
    steps: int = 0
    seconds: float = 0.0
    curve: Curve = field(default_factory=Curve)
    settings: dict[str, Any] = field(default_factory=dict)
    held_out: dict[str, float] = field(default_factory=dict)  # DPO: reward margin / accuracy on held-out pairs
    notes: list[str] = field(default_factory=list)


def base_source() -> str:
    if get_settings().offline:
        from core.loader import smollm2_folder

        folder = smollm2_folder()
        if not (folder / "config.json").exists():
            from core.loader import convert_smollm2

            convert_smollm2()
        return str(folder)
    return HUB_BASE


def load_base(source: str | None = None) -> tuple[Any, Any]:
    """A fresh, trainable copy of the base model and its tokenizer (never the shared loaded one)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    source = source or base_source()
    try:
        tok = AutoTokenizer.from_pretrained(source)
        config = AutoConfig.from_pretrained(source)
        if hasattr(config, "quantization_config"):  # the offline folder is dequantized from GGUF: plain fp32 now
            del config.quantization_config
        model = AutoModelForCausalLM.from_pretrained(source, config=config, dtype="float32")
    except OSError as exc:
        raise LabError(f"Could not load the model {source}: {exc}".split("\n")[0]) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return model, tok


def lora_config(rank: int, alpha: float, targets: Sequence[str] = TARGETS, dropout: float = 0.05) -> Any:
    from peft import LoraConfig

    if not 1 <= int(rank) <= 256:
        raise LabError("LoRA rank must be between 1 and 256 (the book: typically 4–64).")
    return LoraConfig(r=int(rank), lora_alpha=float(alpha), lora_dropout=dropout, bias="none",
                      task_type="CAUSAL_LM", target_modules=list(targets))


def _chat(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def _answer(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _finish(trainer: Any, kind: str, tok: Any, curve: Curve, started: float, settings: dict[str, Any]) -> TuneRun:
    from core.training.params import count_parameters

    jobs.check_stop()
    peft_model = trainer.model
    trainable, total = count_parameters(peft_model)
    folder = Path(tempfile.mkdtemp(prefix=f"lab-{kind}-adapter-"))
    peft_model.save_pretrained(folder)
    tok.save_pretrained(folder)
    merged = peft_model.merge_and_unload()
    merged.eval()
    return TuneRun(kind, folder, merged, tok, trainable, total, curve.step, time.perf_counter() - started, curve,
                   settings)


def train_sft(rows: Sequence[dict[str, str]], model: Any = None, tok: Any = None, rank: int = SFT_DEFAULTS["rank"],
              alpha: float = SFT_DEFAULTS["alpha"], steps: int = SFT_DEFAULTS["steps"], lr: float = SFT_DEFAULTS["lr"],
              batch: int = SFT_DEFAULTS["batch"], max_length: int = SFT_DEFAULTS["max_length"],
              targets: Sequence[str] = TARGETS, curve: Curve | None = None, seed: int = 42) -> TuneRun:
    """SFT (loss on the answers only) of a LoRA adapter on (prompt, completion) rows."""
    from datasets import Dataset
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    if len(rows) < 4:
        raise LabError(f"Only {len(rows)} instruction examples: SFT here needs at least 4.")
    started, curve = time.perf_counter(), curve or Curve()
    set_seed(seed)
    if model is None:
        jobs.report(0.0, "loading the base model")
        model, tok = load_base()
    ds = Dataset.from_list([{"prompt": _chat(r["prompt"]), "completion": _answer(r["completion"])} for r in rows])
    settings = {"rank": rank, "alpha": alpha, "steps": cap_steps(steps), "lr": lr, "batch": batch, "targets": list(targets)}
    with tempfile.TemporaryDirectory(prefix="lab-sft-") as out:
        args = SFTConfig(**training_args_common(cap_steps(steps), batch, lr, out, seed), max_length=max_length,
                         completion_only_loss=True)
        trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok,
                             peft_config=lora_config(rank, alpha, targets), callbacks=[job_callback(curve, what="SFT")])
        quiet(trainer).train()
        return _finish(trainer, "sft", tok, curve, started, settings)


def train_dpo(pairs: Sequence[dict[str, str]], model: Any = None, tok: Any = None, rank: int = DPO_DEFAULTS["rank"],
              alpha: float = DPO_DEFAULTS["alpha"], beta: float = DPO_DEFAULTS["beta"],
              steps: int = DPO_DEFAULTS["steps"], lr: float = DPO_DEFAULTS["lr"], batch: int = DPO_DEFAULTS["batch"],
              max_length: int = DPO_DEFAULTS["max_length"], targets: Sequence[str] = TARGETS,
              curve: Curve | None = None, held_out: Sequence[dict[str, str]] = (), seed: int = 42) -> TuneRun:
    """DPO of a LoRA adapter on (prompt, chosen, rejected) pairs; the reference is ``model`` itself
    (peft: the adapter switched off). With ``held_out`` pairs, the reward margin and accuracy there."""
    from datasets import Dataset
    from transformers import set_seed
    from trl import DPOConfig, DPOTrainer

    if len(pairs) < 2:
        raise LabError(f"Only {len(pairs)} preference pair(s): DPO needs pairs to compare.")
    if not 0 < float(beta) <= 5:
        raise LabError("DPO beta must be above 0 and at most 5 (the book uses 0.1).")
    started, curve = time.perf_counter(), curve or Curve()
    set_seed(seed)
    if model is None:
        jobs.report(0.0, "loading the base model")
        model, tok = load_base()
    ds = Dataset.from_list([{"prompt": _chat(r["prompt"]), "chosen": _answer(r["chosen"]),
                             "rejected": _answer(r["rejected"])} for r in pairs])
    settings = {"rank": rank, "alpha": alpha, "beta": beta, "steps": cap_steps(steps), "lr": lr, "batch": batch,
                "targets": list(targets)}
    with tempfile.TemporaryDirectory(prefix="lab-dpo-") as out:
        args = DPOConfig(**training_args_common(cap_steps(steps), batch, lr, out, seed), beta=float(beta),
                         max_length=max_length)
        trainer = DPOTrainer(model=model, args=args, train_dataset=ds, processing_class=tok,
                             peft_config=lora_config(rank, alpha, targets), callbacks=[job_callback(curve, what="DPO")])
        quiet(trainer).train()
        margins = held_out_rewards(trainer.model, tok, held_out, beta) if held_out else {}
        run = _finish(trainer, "dpo", tok, curve, started, settings)
    run.held_out = margins
    return run


def answer_logp(model: Any, tok: Any, prompt: str, answer: str) -> float:
    """Sum of the log-probabilities of ``answer``'s tokens after the chat-templated ``prompt``."""
    import torch

    head = tok.apply_chat_template(_chat(prompt), tokenize=False, add_generation_prompt=True)
    full = tok.apply_chat_template(_chat(prompt) + _answer(answer), tokenize=False)
    ids_head = tok(head, add_special_tokens=False, return_tensors="pt")["input_ids"]
    ids = tok(full, add_special_tokens=False, return_tensors="pt")["input_ids"][:, :512]
    with torch.no_grad():
        logits = model(input_ids=ids.to(model.device)).logits[0, :-1].float()
    logp = torch.log_softmax(logits, -1).gather(1, ids[0, 1:].to(logits.device)[:, None])[:, 0]
    return float(logp[ids_head.shape[1] - 1:].sum())


def held_out_rewards(peft_model: Any, tok: Any, pairs: Sequence[dict[str, str]], beta: float) -> dict[str, float]:
    """DPO's implicit reward β·(log π − log π_ref) on held-out pairs: mean margin chosen − rejected, and
    the share of pairs where chosen gets the higher reward (π_ref = the adapter switched off)."""
    margins = []
    peft_model.eval()
    for pair in pairs:
        jobs.check_stop()
        policy = [answer_logp(peft_model, tok, pair["prompt"], pair[k]) for k in ("chosen", "rejected")]
        with peft_model.disable_adapter():
            ref = [answer_logp(peft_model, tok, pair["prompt"], pair[k]) for k in ("chosen", "rejected")]
        margins.append(beta * ((policy[0] - ref[0]) - (policy[1] - ref[1])))
    if not margins:
        return {}
    return {"margin": sum(margins) / len(margins), "accuracy": sum(m > 0 for m in margins) / len(margins),
            "n": float(len(margins))}


def generate(model: Any, tok: Any, prompt: str, max_new_tokens: int = 96) -> str:
    """One greedy answer (the side-by-side comparison uses the same decoding for every model)."""
    import torch

    text = tok.apply_chat_template(_chat(prompt), tokenize=False, add_generation_prompt=True)
    enc = tok(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, repetition_penalty=1.1,
                             pad_token_id=tok.pad_token_id, temperature=None, top_p=None, top_k=None)
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def start_model(adapters: Sequence[str] = ()) -> tuple[Any, Any]:
    """A fresh trainable model: the base with ``adapters`` merged in order (DPO after SFT starts here;
    never a cached model, which training would change in place)."""
    from peft import PeftModel

    model, tok = load_base()
    for folder in adapters:
        model = PeftModel.from_pretrained(model, folder).merge_and_unload()
    return model, tok
