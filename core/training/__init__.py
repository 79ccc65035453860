"""Hands-on fine-tuning on a CPU (book part III: ch. 10 embedders, ch. 11 encoders, ch. 12 SFT/DPO).

One module per job: :mod:`params` (PEFT explained by numbers), :mod:`callbacks` (the job runner's
stop/progress inside a transformers ``Trainer``, live curves), :mod:`data` (pairs and preference
data, with clear refusals), :mod:`encoder`, :mod:`embedder`, :mod:`preference` (the trainers),
:mod:`tuned` (a tuned causal LM as a generation backend and arena contestant), :mod:`artifacts`
(trained artifacts kept per session in the lab budget, zipped for download). Nothing here imports
torch or transformers at import time.
"""
