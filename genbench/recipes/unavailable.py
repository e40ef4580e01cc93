"""Methods the field compares against that genbench lists but cannot run (yet), with what was searched.

They are registered so `genbench methods` shows them with the reason; building one raises that reason.
No interface is guessed for code that was not read.
"""

from __future__ import annotations

from genbench.recipes.common import STATUS_NO_CODE, Source, Unavailable


class MiniMaxRemover(Unavailable):
    name = "minimax-remover"
    source = Source("https://github.com/zibojia/MiniMax-Remover", "28e12b450d8a72a7547b86940a4985e6ad90d75b",
                    "MiniMax-Remover: Taming Bad Noise Helps Video Object Removal (arXiv 2505.24873)",
                    ("README.md", "gradio_demo/test.py"))
    status_kind = "no command line"
    reason = ("the repository (read at 28e12b4) offers only a Python API (Minimax_Remover_Pipeline, README "
              "'Minimal Example') and a Gradio demo, no command; a genbench driver script for it is not written yet")


class EffectErase(Unavailable):
    name = "effecterase"
    source = Source("https://github.com/FudanCVL/EffectErase", "",
                    "EffectErase: Joint Video Object Removal and Insertion for High-Quality Effect Erasing "
                    "(arXiv 2603.19224)")
    status_kind = "code not read"
    reason = ("the official repository FudanCVL/EffectErase (named by alisson-anjos/ComfyUI-EffectErase) had no "
              "snapshot to read here, so its command line is unknown; no interface is guessed")


class Svor(Unavailable):
    name = "svor"
    source = Source("", "", "From Ideal to Real: Stable Video Object Removal under Imperfect Conditions "
                            "(arXiv 2603.09283)")
    status_kind = STATUS_NO_CODE
    reason = ("no public code found: searched GitHub code for SVOR / 'stable video object removal'; only a hosted "
              "API client (clawhub 'mi-visionforge-svor') exists")
