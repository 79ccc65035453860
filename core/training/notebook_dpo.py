""""Open as notebook" for the Pairwise Eval Arena's tuning tab (book ch. 12): SFT, then DPO, of LoRA
adapters on SmolLM2-135M-Instruct with trl's ``SFTTrainer`` / ``DPOTrainer`` and peft's ``LoraConfig``
called directly, on the rows the tab uses (``data/sft.json``, ``data/preferences.json``) at its
settings. The held-out reward margin and accuracy are computed in plain torch from the policy's and
the reference's log-probabilities, as :func:`core.training.preference.held_out_rewards` does; the base
and the tuned model answer held-out prompts side by side; ``LAB_RESULT {...}`` holds the numbers.

Offline the base model comes from the packaged GGUF file (``offline_asset('smollm2')``), dequantised
once into a plain fp32 transformers folder beside the notebook, as the lab's
:func:`core.loader.convert_smollm2` does (the lab's own converted folder is used when it is there).
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from core.notebooks import Notebook
from core.settings import get_settings
from core.training.notebook import _chapter, _lab_note

CHAPTER = {"number": 12, "title": "Fine-Tuning Generation Models", "section": "§12.7 preference tuning with DPO"}

_BASE = '''
import pathlib
import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
GGUF = {gguf!r}


def base_source():
    """Hub: the model id. Offline: a plain fp32 folder dequantised once from the packaged GGUF file."""
    if MODE != "offline":
        return {hub!r}
    lab = LAB_ASSETS.parent / "models" / {cache!r}  # the lab converted it already (python -m core.assets fetch)
    if (lab / "config.json").exists():
        return str(lab)
    local = pathlib.Path({cache!r})
    if not (local / "config.json").exists():
        src = offline_asset("smollm2")
        tok = AutoTokenizer.from_pretrained(src, gguf_file=GGUF)
        gguf = AutoModelForCausalLM.from_pretrained(src, gguf_file=GGUF, dtype=torch.float32)
        config = gguf.config
        del config.quantization_config  # the weights are plain fp32 once dequantised: train them as such
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        plain.load_state_dict(gguf.state_dict())
        plain.generation_config = gguf.generation_config
        plain.save_pretrained(local)
        tok.save_pretrained(local)
    return str(local)


def load(source):
    """A fresh, trainable fp32 copy of the base model and its tokenizer."""
    config = AutoConfig.from_pretrained(source)
    if hasattr(config, "quantization_config"):  # a folder converted from GGUF still names it
        del config.quantization_config
    model = AutoModelForCausalLM.from_pretrained(source, config=config, dtype=torch.float32).to(DEVICE)
    tok = AutoTokenizer.from_pretrained(source)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return model, tok


BASE = base_source()
model, tok = load(BASE)
BASE, DEVICE, f"{{sum(p.numel() for p in model.parameters()):,}} parameters"
'''.strip()

_MEASURE = '''
def chat(prompt):
    return [{"role": "user", "content": prompt}]


def answer_logp(model, prompt, answer):
    """Sum of the log-probabilities of the answer's tokens after the chat-templated prompt."""
    head = tok.apply_chat_template(chat(prompt), tokenize=False, add_generation_prompt=True)
    full = tok.apply_chat_template(chat(prompt) + [{"role": "assistant", "content": answer}], tokenize=False)
    n_head = tok(head, add_special_tokens=False, return_tensors="pt")["input_ids"].shape[1]
    ids = tok(full, add_special_tokens=False, return_tensors="pt")["input_ids"][:, :512].to(model.device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    logp = torch.log_softmax(logits, -1).gather(1, ids[0, 1:, None])[:, 0]
    return float(logp[n_head - 1:].sum())


def held_out_logps(model):
    """(log π(chosen), log π(rejected)) of every held-out pair."""
    model.eval()
    return [(answer_logp(model, p["prompt"], p["chosen"]), answer_logp(model, p["prompt"], p["rejected"]))
            for p in prefs["held_out"]]


def answer(model, prompt, max_new_tokens=MAX_NEW_TOKENS):
    """One greedy answer (the lab's comparison decodes the same way for every model)."""
    text = tok.apply_chat_template(chat(prompt), tokenize=False, add_generation_prompt=True)
    enc = tok(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, repetition_penalty=1.1,
                             pad_token_id=tok.pad_token_id, temperature=None, top_p=None, top_k=None)
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()


COMPARE = [p["prompt"] for p in prefs["held_out"][:N_COMPARE]]
base_answers = [answer(model, prompt) for prompt in COMPARE]  # before any training
'''.strip()

_TRAIN_HELPERS = '''
import tempfile
from datasets import Dataset
from peft import LoraConfig
from transformers import set_seed

TARGETS = {targets!r}


def train_args(steps, batch, lr, max_length):
    """What every run here shares: no checkpoints, a log line per step, fp32, no gradient checkpointing."""
    return dict(output_dir=tempfile.mkdtemp(), max_steps=steps, per_device_train_batch_size=batch, learning_rate=lr,
                max_length=max_length, logging_steps=1, save_strategy="no", report_to=[], seed={seed},
                data_seed={seed}, lr_scheduler_type="linear", warmup_steps=0, bf16=False, fp16=False,
                gradient_checkpointing=False, dataloader_num_workers=0, use_cpu=DEVICE != "cuda")


def lora(rank, alpha):
    """A LoRA adapter on the attention's query and value projections."""
    return LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.05, bias="none", task_type="CAUSAL_LM",
                      target_modules=TARGETS)
'''.strip()

_SFT = '''
from trl import SFTConfig, SFTTrainer

SFT_FIRST = {sft_first}  # the lab's "Start from the SFT model (base → SFT → DPO)"
sft_steps = 0
if SFT_FIRST:
    set_seed({seed})
    sft_data = Dataset.from_list([{{"prompt": chat(r["prompt"]),
                                   "completion": [{{"role": "assistant", "content": r["completion"]}}]}}
                                  for r in sft_rows])
    args = SFTConfig(**train_args({steps}, {batch}, {lr!r}, {max_length}), completion_only_loss=True)
    trainer = SFTTrainer(model=model, args=args, train_dataset=sft_data, processing_class=tok,
                         peft_config=lora({rank}, {alpha!r}))
    trainer.train()
    sft_steps = trainer.state.global_step
    model = trainer.model.merge_and_unload()  # base + SFT adapter: the model DPO starts from
sft_steps
'''.strip()

_DPO = '''
from trl import DPOConfig, DPOTrainer

BETA = {beta!r}
before = held_out_logps(model)  # the model DPO starts from = DPO's reference π_ref
set_seed({seed})
pairs = Dataset.from_list([{{"prompt": chat(r["prompt"]), "chosen": [{{"role": "assistant", "content": r["chosen"]}}],
                            "rejected": [{{"role": "assistant", "content": r["rejected"]}}]}} for r in prefs["train"]])
args = DPOConfig(**train_args({steps}, {batch}, {lr!r}, {max_length}), beta=BETA)
trainer = DPOTrainer(model=model, args=args, train_dataset=pairs, processing_class=tok,
                     peft_config=lora({rank}, {alpha!r}))
trainer.train()
[(log["step"], round(log["loss"], 4), round(log.get("rewards/margins", 0.0), 4))
 for log in trainer.state.log_history if "loss" in log]
'''.strip()

_REWARDS = '''
import json

policy = trainer.model  # base (+ SFT) with the DPO adapter; with the adapter switched off it is π_ref
after = held_out_logps(policy)
margins = [BETA * ((pc - rc) - (pr - rr)) for (pc, pr), (rc, rr) in zip(after, before)]
result = {
    "margin_after": round(sum(margins) / len(margins), 4),
    "accuracy_after": round(sum(m > 0 for m in margins) / len(margins), 4),
    "steps": trainer.state.global_step, "sft_steps": sft_steps, "held_out": len(margins),
    # before DPO the policy is the reference, so its reward margin is 0 by definition; what "before" can
    # show is how often the model already gives the chosen answer the higher log-probability
    "prefers_chosen_before": round(sum(c > r for c, r in before) / len(before), 4),
    "prefers_chosen_after": round(sum(c > r for c, r in after) / len(after), 4),
}
print("LAB_RESULT " + json.dumps(result))
'''.strip()

_SIDE = '''
import pandas as pd

pd.set_option("display.max_colwidth", 400)

tuned = policy.merge_and_unload()
pd.DataFrame({"prompt": COMPARE, "base": base_answers, "tuned": [answer(tuned, prompt) for prompt in COMPARE]})
'''.strip()


def _settings(given: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> dict[str, Any]:
    from core.training.data import cap_steps

    out = {**defaults, **{k: v for k, v in (given or {}).items() if k in defaults}}
    out["steps"] = cap_steps(out["steps"])
    return {k: float(v) if k in ("alpha", "beta", "lr") else int(v) for k, v in out.items()}


def dpo_notebook(data: Any, *, dpo: Mapping[str, Any] | None = None, sft: Mapping[str, Any] | None = None,
                 sft_first: bool = True, lab: Mapping[str, Any] | None = None, compare: int = 2,
                 max_new_tokens: int = 80, seed: int = 42) -> Notebook:
    """The tuning tab's run as a notebook: ``data`` is a :class:`core.training.data.PreferenceData`;
    ``dpo`` / ``sft`` override :data:`DPO_DEFAULTS` / :data:`SFT_DEFAULTS` (rank, alpha, beta, steps, lr,
    batch, max_length); ``sft_first`` runs the SFT step before DPO; ``lab`` holds the session's last
    run's numbers; ``compare`` held-out prompts are answered by base and tuned model."""
    from core.loader import SMOLLM2_CACHE, SMOLLM2_GGUF
    from core.training.preference import DPO_DEFAULTS, HUB_BASE, SFT_DEFAULTS, TARGETS

    d, s = _settings(dpo, DPO_DEFAULTS), _settings(sft, SFT_DEFAULTS)
    params = {"data": data.name, "train_pairs": len(data.train), "held_out": len(data.held_out),
              "sft_first": bool(sft_first), "sft": s, "dpo": d, "targets": list(TARGETS), "seed": seed}
    nb = Notebook("arena-tune", "Tune SmolLM2 on preferences: SFT, then DPO", _chapter(CHAPTER), params,
                  models=("chat-smollm2-135m",))
    sft_rel = nb.add_data("sft.json", json.dumps(data.sft()).encode())
    pref_rel = nb.add_data("preferences.json", json.dumps({"name": data.name, "train": data.train,
                                                           "held_out": data.held_out}).encode())
    nb.setup(["trl", "peft", "transformers", "torch", "datasets", "accelerate", "pandas"], ["smollm2"],
             mode=get_settings().mode)
    nb.md(_lab_note(lab))
    nb.section("§12.2 The base model", "SmolLM2-135M-Instruct, trained in fp32 (the book's TinyLlama recipe scaled "
               "down to CPU minutes).")
    nb.code(_BASE.format(gguf=SMOLLM2_GGUF, hub=HUB_BASE, cache=SMOLLM2_CACHE))
    nb.code(f"import json\nsft_rows = json.load(open({sft_rel!r}))\nprefs = json.load(open({pref_rel!r}))\n"
            "len(sft_rows), len(prefs['train']), len(prefs['held_out'])")
    nb.section("§12.7 Measuring a preference", "The sum of an answer's token log-probabilities after the chat "
               "prompt, and greedy answers on held-out prompts before any training.")
    nb.code(f"MAX_NEW_TOKENS, N_COMPARE = {int(max_new_tokens)}, {max(1, int(compare))}\n\n" + _MEASURE)
    nb.section("§12.3 Supervised fine-tuning with LoRA", "The instruction set is the chosen answers; the loss "
               "counts the answer tokens only. The adapter is merged before DPO (base → SFT → DPO).")
    nb.code(_TRAIN_HELPERS.format(targets=list(TARGETS), seed=seed))
    nb.code(_SFT.format(sft_first=bool(sft_first), seed=seed, **s))
    nb.section("§12.7 Preference tuning with DPO", "A new LoRA adapter; the reference model is the same model "
               "with the adapter switched off, so no second copy is kept.")
    nb.code(_DPO.format(seed=seed, **d))
    nb.section("§12.7 Held-out reward margin", "DPO's implicit reward is β·(log π − log π_ref); the margin is "
               "chosen − rejected, the accuracy the share of held-out pairs where chosen wins.")
    nb.code(_REWARDS)
    nb.section("§12.4 Base and tuned, side by side", "The same held-out prompts, greedy decoding.")
    nb.code(_SIDE)
    nb.md("`tuned.save_pretrained('smollm2-dpo')` and `tok.save_pretrained('smollm2-dpo')` keep the merged model; "
          "`policy.save_pretrained(...)` before merging keeps only the adapter.")
    return nb
