"""Prompt Lab's "Open as notebook": the current run as a notebook that calls the engines directly.

The state (see :func:`normalise`) holds the messages, the backend and every sampling setting. The
notebook runs the same engine the lab ran: llama-cpp-python on the same GGUF file
(``create_chat_completion`` with the lab's llama.cpp arguments), transformers ``generate`` where
the lab used transformers, or the openai client for a server; plus the sampling sweep when one
was run, and the next-token view (transformers logits) when a step was asked for. The last cell
prints ``LAB_RESULT {"text": ..., "sweep": ...}`` so a test can compare it with the lab.
"""
from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any, Mapping

from core.generation import LOCAL, REMOTE, SamplingParams, choose_engine, sampling
from core.notebooks import Notebook

def normalise(state: Mapping[str, Any]) -> dict[str, Any]:
    """The notebook's view of a Prompt Lab state (link or UI values): messages, backend, sampling."""
    from core.prompts.messages import build_messages

    params = sampling(state.get("temperature", 0.7), state.get("top_p", 1.0), state.get("top_k", 50),
                      state.get("max_new_tokens", 64), state.get("repetition_penalty", 1.0), state.get("seed"),
                      bool(state.get("greedy")))
    messages = state.get("messages") or build_messages(state.get("system", ""), state.get("history") or [],
                                                       state.get("prompt", ""), bool(state.get("keep_chat")))
    out = {"kind": state.get("kind") or LOCAL, "model": state.get("model") or "chat-smollm2-135m",
           "base_url": state.get("base_url") or "", "remote_model": state.get("remote_model") or "",
           "messages": list(messages), "params": asdict(params), "output": state.get("output") or ""}
    if state.get("sweep"):
        out["sweep"] = dict(state["sweep"])
    if state.get("step") not in (None, ""):
        out["step"] = int(state["step"])
    return out


def _section(nb: Notebook, chapter: Any, title: str, text: str) -> None:
    """A section naming ``chapter`` (Prompt Lab spans chapters 3, 6 and 7)."""
    own, nb.chapter = nb.chapter, chapter
    nb.section(title, text)
    nb.chapter = own


def _engine(s: Mapping[str, Any]) -> str:
    if s["kind"] == REMOTE:
        return "server"
    return choose_engine(s["model"])[0]


def _gguf_cell(model: str) -> str:
    from core import catalogue
    from core.loader import SMOLLM2_GGUF
    from core.settings import get_settings

    entry = catalogue.get(model)
    limits = get_settings().limits
    n_ctx = limits.prompt_tokens + limits.max_new_tokens
    return (f'from llama_cpp import Llama\n\n'
            f'if MODE == "offline":\n'
            f'    model_path = offline_asset("smollm2") / {SMOLLM2_GGUF!r}\n'
            f'else:\n'
            f'    from huggingface_hub import hf_hub_download\n'
            f'    model_path = hf_hub_download({entry.gguf_repo!r}, {entry.gguf_file!r}, revision={entry.gguf_revision!r})\n'
            f'llm = Llama(model_path=str(model_path), n_ctx={n_ctx}, verbose=False)\n'
            f'if llm._model.n_ctx_train() < {n_ctx}:  # the lab does not allocate more context than the model has\n'
            f'    llm = Llama(model_path=str(model_path), n_ctx=llm._model.n_ctx_train(), verbose=False)\n'
            'print(model_path.name if hasattr(model_path, "name") else model_path)')


def _transformers_load(model: str) -> str:
    from core import catalogue
    from core.loader import SMOLLM2_GGUF

    entry = catalogue.get(model)
    return ("import torch\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
            'if MODE == "offline":  # the packaged GGUF, de-quantised by transformers (as the lab does once)\n'
            f'    source, extra = str(offline_asset("smollm2")), {{"gguf_file": {SMOLLM2_GGUF!r}}}\n'
            'else:\n'
            f'    source, extra = {entry.hub_id!r}, {{"revision": {entry.hub_revision!r}}}\n'
            "tokenizer = AutoTokenizer.from_pretrained(source, **extra)\n"
            "model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, **extra).eval()")


def _transformers_kwargs(p: SamplingParams) -> dict[str, Any]:
    kw: dict[str, Any] = {"max_new_tokens": p.max_new_tokens, "repetition_penalty": p.repetition_penalty}
    if p.greedy:
        return {**kw, "do_sample": False}
    return {**kw, "do_sample": True, "temperature": p.temperature, "top_p": p.top_p, "top_k": p.top_k}


def notebook(state: Mapping[str, Any], *, app: Any) -> Notebook:
    """A notebook reproducing Prompt Lab's current generation (and sweep / next-token view)."""
    MANIFEST = app  # the app's manifest (slug, title, chapters), given by the caller
    from core.generation.llamacpp_engine import sampling_kwargs
    from core.settings import get_settings

    s = normalise(state)
    ch3, _, ch7 = MANIFEST.chapters
    params = SamplingParams(**s["params"])
    engine = _engine(s)
    models = () if engine == "server" else (s["model"],)
    nb = Notebook("prompts", MANIFEST.title, MANIFEST.chapters[1], parameters={k: v for k, v in s.items() if k != "output"},
                  models=models)
    packages = {"llamacpp": ["llama-cpp-python"], "transformers": ["torch", "transformers"],
                "server": ["openai"]}[engine] + (["torch", "transformers"] if "step" in s and engine != "server" else [])
    nb.setup(list(dict.fromkeys(packages)), assets=[] if engine == "server" else ["smollm2"],
             mode=get_settings().mode)
    nb.section("§6.1 Using text generation models: the messages",
               "The conversation the lab sent: system prompt (if any), earlier turns (when chatting), your prompt.")
    nb.code("messages = " + json.dumps(s["messages"], indent=1, ensure_ascii=False))
    run_sweep = ""
    if engine == "llamacpp":
        _section(nb, ch7, "§7.1 Model I/O: loading a quantized model (GGUF)",
                   "The lab runs local chat models on CPU with llama.cpp, from the same GGUF file.")
        nb.code(_gguf_cell(s["model"]))
        nb.section("§6.1 The chat template",
                   "The exact text the model receives: the GGUF's own chat template applied to the messages.")
        nb.code("from llama_cpp.llama_chat_format import Jinja2ChatFormatter\n\n"
                "eos, bos = llm.token_eos(), llm.token_bos()\n"
                'formatter = Jinja2ChatFormatter(template=llm.metadata["tokenizer.chat_template"],\n'
                '                               eos_token=llm._model.token_get_text(eos) if eos != -1 else "",\n'
                '                               bos_token=llm._model.token_get_text(bos) if bos != -1 else "")\n'
                "print(formatter(messages=messages).prompt)")
        nb.section("§6.1 Controlling model output: temperature, top_p, top_k",
                   "The lab's llama.cpp arguments (min_p and typical_p off, so the knobs mean what they mean in "
                   "transformers; greedy is temperature 0).")
        nb.code("SAMPLING = " + json.dumps(sampling_kwargs(params), indent=1) + "\n"
                "out = llm.create_chat_completion(messages=messages, **SAMPLING)\n"
                'text = out["choices"][0]["message"]["content"]\nprint(text)')
        run_sweep = ("SWEEP_BASE = " + json.dumps(sampling_kwargs(replace(params, greedy=False))) + "\n"
                     "def sample(t, p, seed):\n"
                     "    kw = {**SWEEP_BASE, 'temperature': t, 'top_p': p, 'seed': seed, 'max_tokens': SWEEP['max_new_tokens']}\n"
                     "    return llm.create_chat_completion(messages=sweep_messages, **kw)['choices'][0]['message']['content']\n")
    elif engine == "transformers":
        _section(nb, ch7, "§7.1 Model I/O: loading the model with transformers",
                   "Where the lab runs transformers (GPU, or LLM_LAB_ENGINE=transformers), so does this notebook.")
        nb.code(_transformers_load(s["model"]))
        nb.section("§6.1 The chat template and generation",
                   "`apply_chat_template` renders the prompt; `generate` decodes with the lab's settings.")
        seed = params.seed if params.seed is not None else 0
        nb.code("prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)\n"
                "print(prompt)\n"
                'ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)\n'
                f"torch.manual_seed({seed})\n"
                "GENERATE = " + json.dumps(_transformers_kwargs(params)) + "\n"
                "with torch.inference_mode():\n"
                "    new = model.generate(**ids, **GENERATE)[0, ids['input_ids'].shape[1]:]\n"
                "text = tokenizer.decode(new, skip_special_tokens=True)\nprint(text)")
        run_sweep = ("def sample(t, p, seed):\n"
                     "    torch.manual_seed(seed)\n"
                     "    ids = tokenizer(tokenizer.apply_chat_template(sweep_messages, tokenize=False, add_generation_prompt=True),\n"
                     "                    return_tensors='pt', add_special_tokens=False)\n"
                     f"    kw = dict(do_sample=True, temperature=t, top_p=p, top_k={params.top_k},\n"
                     f"              repetition_penalty={params.repetition_penalty}, max_new_tokens=SWEEP['max_new_tokens'])\n"
                     "    new = model.generate(**ids, **kw)[0, ids['input_ids'].shape[1]:]\n"
                     "    return tokenizer.decode(new, skip_special_tokens=True)\n")
    else:
        from core.generation import OpenAIBackend

        request = OpenAIBackend(s["base_url"], s["remote_model"], "")._request(params)
        _section(nb, ch7, "§7.1 Model I/O: an OpenAI-compatible server",
                   "The lab sent these settings to the server (top_k and the repetition penalty go in "
                   "`extra_body` where the server takes them). Set OPENAI_API_KEY in your environment.")
        nb.code("import os\nfrom openai import OpenAI\n\n"
                f"client = OpenAI(base_url={s['base_url']!r}, api_key=os.environ.get('OPENAI_API_KEY', 'none'))\n"
                f"REQUEST = {json.dumps(request, indent=1)}\n"
                f"out = client.chat.completions.create(model={s['remote_model']!r}, messages=messages, **REQUEST)\n"
                "text = out.choices[0].message.content\nprint(text)")
        run_sweep = ("def sample(t, p, seed):\n"
                     "    kw = {**REQUEST, 'temperature': t, 'top_p': p, 'seed': seed, 'max_tokens': SWEEP['max_new_tokens']}\n"
                     f"    return client.chat.completions.create(model={s['remote_model']!r}, messages=sweep_messages, **kw).choices[0].message.content\n")
    if s.get("output"):
        nb.md("The lab's output, for comparison:\n\n" + "\n".join("> " + line for line in s["output"].splitlines()))
    if "sweep" in s:
        sw = s["sweep"]
        nb.section("§6.1.3 Temperature and top_p, side by side",
                   "The lab's sweep: sample *j* of every cell uses seed + *j*, so cells differ only by the two knobs.")
        sweep_msgs = ([m for m in s["messages"] if m["role"] == "system"][:1]
                      + [{"role": "user", "content": str(sw.get("prompt", "")).strip()}])
        nb.code("SWEEP = " + json.dumps(sw, indent=1, ensure_ascii=False) + "\n"
                "sweep_messages = " + json.dumps(sweep_msgs, ensure_ascii=False) + "\n" + run_sweep +
                "sweep = []\n"
                "for t in SWEEP['temperatures']:\n"
                "    for p in SWEEP['top_ps']:\n"
                "        samples = [sample(t, p, SWEEP['seed'] + j) for j in range(SWEEP['n'])]\n"
                "        sweep.append({'temperature': t, 'top_p': p, 'samples': samples,\n"
                "                      'distinct': len({x.strip() for x in samples})})\n"
                "        print(f'T={t} top_p={p}: {len({x.strip() for x in samples})} distinct')")
    else:
        nb.code("sweep = None")
    if "step" in s and engine != "server":
        if engine == "llamacpp":
            nb.md("The next-token view reads the model's logits with transformers (as the lab does):")
            nb.code(_transformers_load(s["model"]))
        _section(nb, ch3, "§3.1 Choosing a single token from the probability distribution",
                   f"The candidates at output step {s['step']} (0 = the first output token), at temperature 1.")
        nb.code("prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)\n"
                "prompt_ids = tokenizer(prompt, add_special_tokens=False)['input_ids']\n"
                "out_ids = tokenizer(text, add_special_tokens=False)['input_ids']\n"
                f"ids = prompt_ids + out_ids[:{s['step']}]\n"
                "with torch.inference_mode():\n"
                "    probs = model(input_ids=torch.tensor([ids])).logits[0, -1].softmax(-1)\n"
                "top = torch.topk(probs, 10)\n"
                "for p, i in zip(top.values.tolist(), top.indices.tolist()):\n"
                "    print(f'{p:8.4f}  {tokenizer.decode([i])!r}')")
    nb.section("The figures this notebook reproduces", "Compared by the lab's tests with what the app showed.")
    nb.code("import json\nprint('LAB_RESULT ' + json.dumps({'text': text, 'sweep': sweep}, ensure_ascii=False))")
    return nb
